using NasActors.Training.Data;
using NasActors.Training.Kernels;
using NasActors.Training.Networks;
using NasActors.Training;
using NasActors.SearchSpace;
using NasActors.Tensors;
using NasActors.Tests.Training;
using NasActors.Tests.Support;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasActors.Tests.Tensors;

/// <summary>bf16/fp16 training with fp32 master weights, channels-last batches and the cuDNN switch, checked on the CPU.</summary>
[Collection(TorchCollection.Name)]
public sealed class MixedPrecisionTests
{
    private static readonly Lazy<DataSplits> Splits = new(() => DataSplits.Create(DataTests.LoadMini(), 200, 1000, seed: 1));
    private static readonly Lazy<DataSplits> Small = new(() => DataSplits.Create(DataTests.LoadMini(), 100, 300, seed: 1));

    private static NetworkPlan TinyPlan() => NetworkPlan.Create(new NetworkConfig(NasNetA.Genotype, 1, 4, 10, 1, 28, StemKind.Cifar, DropPathKeep: 0.8));

    private static readonly TrainingConfig Config = new() { Epochs = 3, BatchSize = 32, LearningRate = 0.1, Seed = 1 };

    [Fact]
    public void A_bf16_child_learns_as_well_as_an_fp32_one()
    {
        var config = Config with { Epochs = 2 };
        var fp32 = ChildTraining.Train(TinyPlan(), Splits.Value, config, CPU);
        var bf16 = ChildTraining.Train(TinyPlan(), Splits.Value, config with { Precision = Precision.Bf16 }, CPU);
        Assert.True(bf16.ValidationAccuracy > 0.4, $"bf16 validation accuracy {bf16.ValidationAccuracy}");
        Assert.True(Math.Abs(bf16.ValidationAccuracy - fp32.ValidationAccuracy) < 0.1, $"bf16 {bf16.ValidationAccuracy} against fp32 {fp32.ValidationAccuracy}");
        Assert.True(bf16.History[^1].TrainLoss < bf16.History[0].TrainLoss);
        Assert.NotEqual(fp32.History[^1].TrainLoss, bf16.History[^1].TrainLoss); // it did train in bf16
    }

    [Fact]
    public void A_bf16_child_resumes_from_its_checkpoint_bit_for_bit()
    {
        using var dir = new TempDir();
        var config = Config with { Epochs = 2, Precision = Precision.Bf16 };
        var whole = ChildTraining.Train(TinyPlan(), Small.Value, config, CPU);
        using var stop = new CancellationTokenSource();
        Assert.ThrowsAny<OperationCanceledException>(() => ChildTraining.Train(TinyPlan(), Small.Value, config, CPU, _ => stop.Cancel(), dir.Path, cancel: stop.Token));
        var resumed = ChildTraining.Train(TinyPlan(), Small.Value, config, CPU, checkpointDir: dir.Path);
        Assert.Equal(whole.History.Select(h => h.TrainLoss), resumed.History.Select(h => h.TrainLoss));
        Assert.Equal(whole.ValidationAccuracy, resumed.ValidationAccuracy);

        // An fp32 run does not take a bf16 checkpoint.
        var e = Assert.Throws<TrainingFailedException>(() => ChildTraining.Train(TinyPlan(), Small.Value, config with { Precision = Precision.Fp32 }, CPU, checkpointDir: dir.Path));
        Assert.Equal(FailureKind.Checkpoint, e.Kind);
    }

    [Fact]
    public void Master_weights_keep_updates_that_bf16_alone_rounds_away()
    {
        // 1 - 1e-4 is 1 in bf16 (8 bits of mantissa): plain bf16 SGD never moves; the master weights do.
        using var plain = new Parameter(ones(1, dtype: bfloat16));
        using var model = new Parameter(ones(1, dtype: bfloat16));
        using var master = new MasterWeights([model], Precision.Bf16);
        using var plainSgd = new Sgd([plain], 1e-4, 0, 0);
        using var sgd = new Sgd(master.Masters, 1e-4, 0, 0);
        for (var i = 0; i < 200; i++)
        {
            using var scope = NewDisposeScope();
            plain.grad = ones(1, dtype: bfloat16);
            plainSgd.Step();
            model.grad = ones(1, dtype: bfloat16);
            Assert.True(master.Unscale());
            sgd.Step();
            master.CopyBack();
        }
        Assert.Equal(1f, plain.to_type(float32).item<float>());
        Assert.Equal(0.98f, master.Masters[0].item<float>(), 4);
        Assert.Equal(0.98f, model.to_type(float32).item<float>(), 2);
    }

    [Fact]
    public void Fp16_loss_scaling_skips_overflowing_steps_and_grows_after_good_ones()
    {
        using var model = new Parameter(ones(3, dtype: float16));
        using var master = new MasterWeights([model], Precision.Fp16);
        Assert.Equal(65536, master.LossScale);
        using (NewDisposeScope())
        {
            model.grad = tensor(new float[] { 1, float.PositiveInfinity, 2 }).to_type(float16);
            Assert.False(master.Unscale());
        }
        Assert.Equal((32768, 1L), (master.LossScale, master.SkippedSteps));
        using var scaled = (1.5 * 32768.0).ToScalar();
        for (var i = 0; i < 2000; i++)
        {
            using var scope = NewDisposeScope();
            model.grad = full(3, scaled, dtype: float16);
            Assert.True(master.Unscale());
            if (i == 0) Assert.Equal(1.5f, master.Masters[0].grad!.data<float>()[0]); // unscaled into fp32
        }
        Assert.Equal(65536, master.LossScale);
        Assert.Throws<TrainingFailedException>(() => ChildTraining.Train(TinyPlan(), Small.Value, Config with { Precision = Precision.Fp16 }, CPU));
    }

    [Fact]
    public void Channels_last_batches_have_NHWC_strides_and_train_the_same_network()
    {
        using var images = rand(2, 3, 5, 7);
        using var x = ChildTraining.Input(images, new TrainingConfig { ChannelsLast = true });
        Assert.Equal([2L, 3, 5, 7], x.shape);
        Assert.Equal([105L, 1, 21, 3], x.stride());
        Assert.True(x.eq(images).all().item<bool>());

        // One training step of the same network (same weights, same batch) in each memory order, on
        // the paths the device's check chose for it: logits and every gradient agree to rounding.
        // Random weights give logits far from uniform, so agreeing is not a matter of chance level.
        var plan = NetworkPlan.Create(new NetworkConfig(NasNetA.Genotype, 1, 4, 10, 1, 28, StemKind.Cifar));
        using var generator = new Generator(11);
        using var batch = rand([8, 1, 28, 28], generator: generator);
        using var labels = randint(0, 10, [8], generator: generator);
        Tensor[] Step(bool channelsLast)
        {
            var kernels = DeviceKernels.Check(CPU, Precision.Fp32, channelsLast).Plan!;
            manual_seed(5);
            using var net = new NasNetwork(plan, kernels);
            net.train();
            using var logits = net.forward(ChildTraining.Input(batch, new TrainingConfig { ChannelsLast = channelsLast }));
            using var loss = nn.functional.cross_entropy(logits, labels);
            loss.backward();
            return [logits.detach().clone(), .. net.parameters().Select(p => p.grad!.detach().clone())];
        }
        var nchw = Step(false);
        var nhwc = Step(true);
        Assert.True(nchw[0].std().item<float>() > 0.05f, "logits nearly uniform: the comparison would say nothing");
        Assert.Equal(nchw.Length, nhwc.Length);
        var worst = nchw.Select((a, i) => ReferenceCheck.Error(nhwc[i], a.to(float64))).Max();
        Assert.True(worst < 1e-3, $"channels-last differs from NCHW by {worst:0.0e+0} (logits or a gradient)");
    }

    [Fact]
    public void The_cudnn_autotuning_switch_reaches_libtorch()
    {
        var before = CudnnSettings.Benchmark;
        try
        {
            CudnnSettings.Benchmark = true;
            Assert.True(CudnnSettings.Benchmark);
            CudnnSettings.Benchmark = false;
            Assert.False(CudnnSettings.Benchmark);
        }
        finally
        {
            CudnnSettings.Benchmark = before;
        }
    }
}
