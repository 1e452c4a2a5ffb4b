using System.Diagnostics;
using System.Runtime.InteropServices;
using NasActors.Training.Data;
using NasActors.Training.Kernels;
using NasActors.Training.Networks;
using NasActors.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace NasActors.Training;

/// <summary>
/// Trains one child network and measures its validation accuracy. Runs synchronously on the
/// calling thread (dispose scopes are per thread): call it from a dedicated thread, never from
/// an actor's message handler.
/// </summary>
public static class ChildTraining
{
    /// <summary>The batch the reward (and test accuracy) is computed at; the kernel check covers it.</summary>
    public const int EvalBatchSize = 256;

    public static TrainingResult Train(
        NetworkPlan plan,
        DataSplits data,
        TrainingConfig config,
        Device device,
        Action<EpochReport>? progress = null,
        string? checkpointDir = null,
        bool evaluateTest = false,
        CancellationToken cancel = default,
        Action<int, int>? stepProgress = null,
        Action<NasNetwork, Preprocessing>? trained = null)
    {
        var errors = config.Errors();
        if (errors.Count > 0)
            throw new TrainingFailedException(FailureKind.InvalidConfiguration, string.Join("; ", errors));
        CheckData(plan, data);
        try
        {
            return Run(plan, data, config, device, progress, checkpointDir, evaluateTest, cancel, stepProgress, trained);
        }
        catch (Exception e) when (IsOutOfMemory(e))
        {
            throw new TrainingFailedException(FailureKind.OutOfMemory,
                $"out of memory on {device} (batch {config.BatchSize}, {plan.Parameters:N0} parameters): {FirstLine(e.Message)}", e);
        }
    }

    public static int StepsPerEpoch(DataSplits data, TrainingConfig config) =>
        (data.Train.Count + config.BatchSize - 1) / config.BatchSize;

    /// <summary>libtorch reports allocation failures as exceptions whose text says so (CPU and CUDA).</summary>
    public static bool IsOutOfMemory(Exception e) =>
        e is OutOfMemoryException
        || (e is ExternalException && (e.Message.Contains("out of memory", StringComparison.OrdinalIgnoreCase)
                                      || e.Message.Contains("can't allocate memory", StringComparison.OrdinalIgnoreCase)
                                      || e.Message.Contains("not enough memory", StringComparison.OrdinalIgnoreCase)));

    private static TrainingResult Run(NetworkPlan plan, DataSplits data, TrainingConfig config, Device device,
        Action<EpochReport>? progress, string? checkpointDir, bool evaluateTest, CancellationToken cancel, Action<int, int>? stepProgress,
        Action<NasNetwork, Preprocessing>? trained)
    {
        var (mean, std) = data.Train.ChannelStatistics();
        var train = new Batches(data.Train, mean, std);
        var augmentation = Augmentation.For(config.Augment, data, config.CutoutSize);

        // Every layer proven right on this device at its shapes before it trains (DeviceFaultException if not).
        var kernels = DeviceKernels.Prepare(plan, Math.Min(config.BatchSize, data.Train.Count), Math.Min(EvalBatchSize, data.Validation.Count), device,
            config.Precision, config.ChannelsLast);
        torch.manual_seed(config.Seed);
        using var model = new NasNetwork(plan, kernels);
        using var master = ToDevice(model, device, config);
        using var optimizer = new Sgd(master?.Masters ?? model.parameters(), config.LearningRate, config.Momentum, config.WeightDecay);

        var fingerprint = Checkpoint.Fingerprint(plan, config, data.Train.Count);
        var history = new List<EpochReport>();
        var secondsBefore = 0.0;
        if (checkpointDir is not null && Checkpoint.Load(checkpointDir, fingerprint, model, optimizer, master) is { } restored)
            (history, secondsBefore) = restored;
        var resumed = history.Count;
        string? unsaved = null;
        // The restored epochs are reported again: a rung among them whose report never got through is judged now.
        foreach (var e in history) progress?.Invoke(e);

        var stepsPerEpoch = StepsPerEpoch(data, config);
        var totalSteps = (long)stepsPerEpoch * config.Epochs;
        var clock = Stopwatch.StartNew();
        for (var epoch = history.Count; epoch < config.Epochs; epoch++)
        {
            cancel.ThrowIfCancellationRequested();
            var epochClock = Stopwatch.StartNew();
            // Per-epoch seeds make a resumed run draw exactly what an uninterrupted one would, in any
            // process (HashCode.Combine, used here before, is seeded anew in each process).
            torch.manual_seed(config.Seed * 1_000_003L + epoch + 1);
            var rng = new Random((int)((config.Seed * 1_000_003L + epoch) & 0x7fffffff));
            model.train();
            model.SetDropPathProgress((double)epoch / config.Epochs);

            using var lossSum = zeros(1, device: device);
            using var correct = zeros(1, dtype: int64, device: device);
            var step = (long)epoch * stepsPerEpoch;
            var lr = config.LearningRate;
            var seen = 0;
            foreach (var batch in train.Epoch(config.BatchSize, device, rng, augmentation))
            {
                using var images = batch.Images;
                using var labels = batch.Labels;
                cancel.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                lr = config.LearningRate * 0.5 * (1 + Math.Cos(Math.PI * step / totalSteps));
                var (loss, logits) = Step(model, optimizer, images, labels, config, lr, master);
                var n = (int)labels.shape[0];
                using var count = n.ToScalar();
                lossSum.add_(loss.detach().mul(count), Scalars.One);
                correct.add_(logits.argmax(1).eq(labels).sum(), Scalars.OneInteger);
                seen += n;
                step++;
                if (step % config.FiniteCheckEvery == 0 || seen == data.Train.Count)
                    CheckFinite(lossSum, epoch, step);
                stepProgress?.Invoke(epoch, (int)(step - (long)epoch * stepsPerEpoch));
            }

            var trainLoss = lossSum.item<float>() / seen;
            var trainAccuracy = (double)correct.item<long>() / seen;
            var validation = config.ValidateAt is { } at && !at.Contains(epoch + 1) && epoch + 1 < config.Epochs
                ? double.NaN
                : Evaluate(model, new Batches(data.Validation, mean, std), device, config);
            var report = new EpochReport(epoch + 1, config.Epochs, trainLoss, trainAccuracy, validation, lr, epochClock.Elapsed.TotalSeconds);
            history.Add(report);
            if (checkpointDir is not null)
            {
                try
                {
                    Checkpoint.Save(checkpointDir, fingerprint, history, secondsBefore + clock.Elapsed.TotalSeconds, model, optimizer, master);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // A checkpoint that cannot be written (a full disk) costs the checkpoint, never the training.
                    unsaved = $"the checkpoint after epoch {epoch + 1} could not be written ({e.Message}); a requeued training resumes from the one before";
                }
            }
            progress?.Invoke(report);
        }

        double? test = evaluateTest ? Evaluate(model, new Batches(data.Test, mean, std), device, config) : null;
        trained?.Invoke(model, new Preprocessing(data.Train.Height, data.Train.Channels, mean, std, data.Train.ClassNames));
        return new TrainingResult(history[^1].ValidationAccuracy, test, history[^1].TrainLoss,
            plan.Parameters, plan.MultAdds, secondsBefore + clock.Elapsed.TotalSeconds, history) { ResumedEpochs = resumed, CheckpointProblem = unsaved };
    }

    /// <summary>
    /// Moves the model to its device and precision; for bf16/fp16 returns the fp32 master weights the
    /// optimizer must update. Also applies the process-wide cuDNN setting on CUDA devices.
    /// </summary>
    public static MasterWeights? ToDevice(NasNetwork model, Device device, TrainingConfig config)
    {
        if (config.Precision == Precision.Fp16 && device.type != DeviceType.CUDA)
            throw new TrainingFailedException(FailureKind.InvalidConfiguration, $"fp16 training needs a CUDA device ({device} has no fp16 convolutions worth using; use bf16)");
        if (device.type == DeviceType.CUDA && config.CudnnBenchmark) CudnnSettings.Benchmark = true;
        model.to(device);
        if (config.Precision == Precision.Fp32) return null;
        model.to(config.Precision.ScalarType());
        return new MasterWeights(model.parameters(), config.Precision);
    }

    /// <summary>A batch as the network takes it: in its precision and memory order.</summary>
    public static Tensor Input(Tensor images, TrainingConfig config)
    {
        var x = config.Precision == Precision.Fp32 ? images : images.to_type(config.Precision.ScalarType());
        // NCHW shape with NHWC strides: libtorch then runs the convolutions channels-last.
        return config.ChannelsLast ? PathConv2d.Layout(x, channelsLast: true) : x;
    }

    /// <summary>One SGD step at learning rate <paramref name="lr"/>; returns the loss and logits (in the caller's dispose scope).</summary>
    public static (Tensor Loss, Tensor Logits) Step(NasNetwork model, Sgd optimizer, Tensor images, Tensor labels, TrainingConfig config, double lr, MasterWeights? master = null)
    {
        optimizer.LearningRate = lr;
        optimizer.ZeroGrad();
        if (master is not null) model.zero_grad();
        var (logits, aux) = model.ForwardWithAux(Input(images, config));
        // The loss in fp32 whatever the network's precision.
        logits = logits.to_type(float32);
        var loss = nn.functional.cross_entropy(logits, labels, label_smoothing: config.LabelSmoothing);
        if (aux is not null)
        {
            using var weight = config.AuxLossWeight.ToScalar();
            loss = loss.add(nn.functional.cross_entropy(aux.to_type(float32), labels, label_smoothing: config.LabelSmoothing), weight);
        }
        (master?.Scale(loss) ?? loss).backward();
        // fp16: gradients that overflowed skip the step (the loss scale shrinks instead).
        if (master is not null && !master.Unscale()) return (loss, logits);
        if (config.GradientClip is { } clip)
            nn.utils.clip_grad_norm_(optimizer.Parameters, clip);
        optimizer.Step();
        master?.CopyBack();
        return (loss, logits);
    }

    public static double Evaluate(NasNetwork model, Batches batches, Device device, TrainingConfig config)
    {
        model.eval();
        using var noGrad = no_grad();
        long correct = 0;
        foreach (var batch in batches.Epoch(EvalBatchSize, device))
        {
            using var images = batch.Images;
            using var labels = batch.Labels;
            using var scope = NewDisposeScope();
            correct += model.forward(Input(images, config)).argmax(1).eq(labels).sum().item<long>();
        }
        return (double)correct / batches.Data.Count;
    }

    private static void CheckFinite(Tensor lossSum, int epoch, long step)
    {
        var value = lossSum.item<float>();
        if (!float.IsFinite(value))
            throw new TrainingFailedException(FailureKind.NonFiniteLoss,
                $"training loss became {(float.IsNaN(value) ? "NaN" : "infinite")} in epoch {epoch + 1} (by step {step}); lower the learning rate or enable gradient clipping");
    }

    private static void CheckData(NetworkPlan plan, DataSplits data)
    {
        var c = plan.Config;
        if (data.Train.Channels != c.InputChannels || data.Train.Height != c.ImageSize || data.Train.Width != c.ImageSize)
            throw new TrainingFailedException(FailureKind.InvalidConfiguration,
                $"network expects {c.InputChannels}x{c.ImageSize}x{c.ImageSize} images, {data.Train.Name} has {data.Train.Channels}x{data.Train.Height}x{data.Train.Width}");
        if (data.Train.Classes != c.Classes)
            throw new TrainingFailedException(FailureKind.InvalidConfiguration,
                $"network has {c.Classes} classes, {data.Train.Name} has {data.Train.Classes}");
    }

    private static string FirstLine(string message) => message.Split('\n')[0].Trim();
}
