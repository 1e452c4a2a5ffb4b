using NasActors.Training.Kernels;
using NasActors.Training.Networks;
using NasActors.Training;
using NasActors.Protocol;
using NasActors.SearchSpace;
using NasActors.Tensors;
using NasActors.Tests.Support;
using static TorchSharp.torch;

namespace NasActors.Tests.Training;

/// <summary>
/// Known answers: every layer our networks build, forward and both gradients, against float64 on
/// the paths this machine's check chose. On a CPU whose oneDNN computes some convolutions wrong
/// (AMD Zen 5, docs/decisions.md) these fail with the shape named when the fallback is missing.
/// </summary>
[Collection(TorchCollection.Name)]
public class KernelTests
{
    // Op inputs have F or 2F channels and F >= 4: counts on and off the vector width, odd ones too.
    private static readonly int[] OpChannels = [4, 5, 7, 12, 13, 16, 20, 33, 44, 64];
    private static readonly int[] FewChannels = [4, 13, 44];

    public static TheoryData<Precision, bool> Settings() => new()
    {
        { Precision.Fp32, false }, { Precision.Fp32, true }, { Precision.Bf16, false }, { Precision.Bf16, true },
    };

    [Theory]
    [MemberData(nameof(Settings))]
    public void Every_op_computes_right_against_float64_on_the_checked_paths(Precision precision, bool channelsLast)
    {
        var check = DeviceKernels.Check(CPU, precision, channelsLast);
        Assert.True(check.Healthy, check.Problem);
        var channels = precision == Precision.Fp32 && !channelsLast ? OpChannels : FewChannels;
        var cases = from op in OpNames.All
                    from c in channels
                    from inC in new[] { c, 2 * c }
                    from stride in new[] { 1, 2 }
                    from k in Walk(OpLayers.For(op, inC, c, stride), new FeatureShape(inC, 9, 9), batch: 6)
                    // One-channel convolutions (AmoebaNet's bottleneck below F = 8) are not in the device's
                    // probe: a network that has them proves them at its own shapes (the test below).
                    where k.Layer is not ConvLayer { In: 1 } and not ConvLayer { Out: 1 }
                    select k;
        AssertRight(cases.Distinct(), check.Plan!, precision);
    }

    [Fact]
    public void A_network_with_one_channel_bottleneck_convolutions_is_built_on_paths_that_compute_them_right()
    {
        // AmoebaNet-A at F = 8: its second stem cell (F/2 = 4 filters) has a 1x7 then 7x1 bottleneck of one channel.
        var plan = Plan(PublishedCells.AmoebaNetA, StemKind.ImageNet, 3, 64, aux: false, filters: 8);
        var cases = KernelProbe.Of(plan, batch: 2, evalBatch: 3).ToList();
        Assert.Contains(cases, c => c.Layer is ConvLayer { In: 1, Out: 1, KernelH: 1, KernelW: 7 });
        try
        {
            var kernels = DeviceKernels.Prepare(plan, 2, 3, CPU);
            AssertRight(cases, kernels, Precision.Fp32);
        }
        finally
        {
            // Whatever this network taught the process about its paths, the next tests start from a fresh check.
            DeviceKernels.Check(CPU, again: true);
        }
    }

    [Theory]
    [MemberData(nameof(Settings))]
    public void Every_other_layer_of_a_network_computes_right_against_float64(Precision precision, bool channelsLast)
    {
        var check = DeviceKernels.Check(CPU, precision, channelsLast);
        Assert.True(check.Healthy, check.Problem);
        // Stems (1 or 3 image channels, no input gradient), factorized reductions, adapters, the
        // auxiliary head and the classifier, as NetworkPlan builds them for CIFAR and ImageNet sizes.
        var plans = new[]
        {
            Plan(NasNetA.Genotype, StemKind.Cifar, 1, 28, aux: true),
            Plan(NasNetA.Genotype, StemKind.Cifar, 3, 16, aux: false),
            Plan(NasNetA.Genotype, StemKind.ImageNet, 3, 64, aux: false, filters: 8),
        };
        AssertRight(plans.SelectMany(p => KernelProbe.Of(p, batch: 5, evalBatch: 7)).Distinct(), check.Plan!, precision);
    }

    [Fact]
    public void The_unfold_path_computes_every_convolution_right()
    {
        var unfold = new KernelPlan(false, ConvPath.Unfold, ConvPath.Unfold, ConvPath.Unfold);
        var cases = Enum.GetValues<ConvKind>().SelectMany(KernelProbe.Convolutions)
            .Append(new KernelCase(new ConvLayer(6, 6, 3, 3, 2, 2, Dilation: 2, Groups: 6), new FeatureShape(6, 9, 9), 3));
        AssertRight(cases, unfold, Precision.Fp32);
        AssertRight(cases, unfold with { ChannelsLast = true }, Precision.Fp32);
    }

    [Fact]
    public void Every_path_gives_the_network_the_same_weights_and_output_order()
    {
        var plan = Plan(NasNetA.Genotype, StemKind.Cifar, 1, 12, aux: false);
        using var x = randn(3, 1, 12, 12);
        var check = DeviceKernels.Check(CPU);
        Assert.True(check.Healthy, check.Problem);
        // A path the device's probe found wrong for some kind (the Zen 5 fault) is not compared: the
        // unfold path (no convolution library) and the checked plan always are.
        var paths = new[] { ConvPath.Nchw, ConvPath.Nhwc, ConvPath.Unfold }
            .Where(path => path == ConvPath.Unfold || check.Results.Where(r => r.Path == path).All(r => r.Right)).ToArray();
        var outputs = paths.Select(path => new KernelPlan(false, path, path, path)).Prepend(check.Plan!).Select(kernels =>
        {
            manual_seed(7);
            using var net = new NasNetwork(plan, kernels);
            net.eval();
            using var noGrad = no_grad();
            return (Names: net.named_parameters().Select(p => p.name).ToArray(), Sum: net.parameters().Sum(p => p.sum().item<float>()),
                Logits: net.forward(x).detach().clone());
        }).ToArray();
        Assert.True(outputs.Length >= 3, $"compared {outputs.Length - 1} paths");
        foreach (var o in outputs.Skip(1))
        {
            Assert.Equal(outputs[0].Names, o.Names);
            Assert.Equal(outputs[0].Sum, o.Sum);
            // The same network, computed several ways; only rounding (and a wrong kernel) tells them apart.
            Assert.True(ReferenceCheck.Error(o.Logits, outputs[0].Logits.to(float64)) < 1e-3);
        }
    }

    [Fact]
    public void A_large_batch_is_compared_at_its_first_and_last_images_and_others_at_random()
    {
        var conv = new KernelCase(new ConvLayer(4, 4, 3, 3), new FeatureShape(4, 8, 8), 256);
        var picked = ReferenceCheck.ImagesCompared(conv, seed: 3);
        Assert.Equal(4, picked.Length);
        Assert.Equal((0L, 255L), (picked[0], picked[^1]));
        Assert.Equal(picked.Distinct().Order(), picked);
        Assert.NotEqual(picked, ReferenceCheck.ImagesCompared(conv, seed: 4));
        // A small batch is compared whole; batch norm in training couples the images, so all of them.
        Assert.Equal([0L, 1, 2, 3], ReferenceCheck.ImagesCompared(conv with { Batch = 4 }, seed: 3));
        var norm = new KernelCase(new BatchNormLayer(4), new FeatureShape(4, 8, 8), 64);
        Assert.Equal(64, ReferenceCheck.ImagesCompared(norm, seed: 3).Length);
        Assert.Equal(4, ReferenceCheck.ImagesCompared(norm.Evaluated(64), seed: 3).Length);
    }

    [Fact]
    public void Eval_mode_is_checked_with_running_statistics_at_the_evaluation_batch()
    {
        var plan = Plan(NasNetA.Genotype, StemKind.Cifar, 1, 12, aux: false);
        var cases = KernelProbe.Of(plan, batch: 4, evalBatch: ChildTraining.EvalBatchSize).ToList();
        var eval = cases.Where(c => c.Eval).ToList();
        Assert.Equal(cases.Count(c => !c.Eval), eval.Count);
        Assert.All(eval, c => Assert.Equal((ChildTraining.EvalBatchSize, false), (c.Batch, c.InputGrad)));
        var norm = eval.First(c => c.Layer is BatchNormLayer);
        var result = ReferenceCheck.Run(norm, KernelPlan.Reference, CPU, Precision.Fp32, seed: 1);
        Assert.True(result.Right, result.Wrong);
        Assert.Equal(4, result.ImagesCompared);
        // Running statistics are what eval mode normalizes with: a layer that ignored them would be off.
        using var bn = LayerModules.Build(norm.Layer, KernelPlan.Reference);
        Assert.Contains(bn.named_buffers(), b => b.name.EndsWith("running_var", StringComparison.Ordinal));
    }

    [Fact]
    public void A_wrong_value_is_measured_as_wrong()
    {
        using var reference = tensor(new double[] { 1, -2, 4 });
        using var close = tensor(new float[] { 1, -2, 4.000001f });
        using var off = tensor(new float[] { 1, -2, 3 });
        using var nan = tensor(new float[] { 1, float.NaN, 4 });
        Assert.True(ReferenceCheck.Error(close, reference) < 1e-6);
        Assert.Equal(0.25, ReferenceCheck.Error(off, reference), 6);
        Assert.Equal(double.PositiveInfinity, ReferenceCheck.Error(nan, reference));
    }

    [Theory]
    [InlineData("cpu:dense", "cpu", ConvKind.Dense, null, FaultEffect.Output, 0)]
    [InlineData("cuda:1:depthwise/nhwc@2.5", "cuda:1", ConvKind.Depthwise, ConvPath.Nhwc, FaultEffect.Output, 2.5)]
    [InlineData("cpu:dense/nchw+input-grad", "cpu", ConvKind.Dense, ConvPath.Nchw, FaultEffect.InputGrad, 0)]
    [InlineData("cpu:pointwise+late@1", "cpu", ConvKind.Pointwise, null, FaultEffect.Late, 1)]
    [InlineData("cpu:depthwise+eval", "cpu", ConvKind.Depthwise, null, FaultEffect.Eval, 0)]
    public void Injected_faults_parse(string spec, string device, ConvKind kind, ConvPath? path, FaultEffect effect, double seconds)
    {
        var f = KernelFaults.Parse(spec)!;
        Assert.Equal((device, kind, path, effect, TimeSpan.FromSeconds(seconds)), (f.Device, f.Kind, f.Path, f.Effect, f.After));
    }

    [Fact]
    public void Batch_norm_keeps_nn_BatchNorm2d_names_and_counts_its_training_batches()
    {
        using var bn = LayerModules.Build(new BatchNormLayer(4), DeviceKernels.Check(CPU).Plan!);
        Assert.Equal(["weight", "bias"], bn.named_parameters().Select(p => p.name));
        Assert.Equal(["running_mean", "running_var", "num_batches_tracked"], bn.named_buffers().Select(b => b.name));
        using var x = randn(8, 4, 3, 3);
        bn.train();
        for (var i = 0; i < 3; i++) bn.forward(x).Dispose();
        bn.eval();
        bn.forward(x).Dispose();
        Assert.Equal(3L, bn.named_buffers().Single(b => b.name == "num_batches_tracked").buffer.item<long>());
        Assert.True(bn.named_buffers().Single(b => b.name == "running_mean").buffer.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void An_injected_fault_bound_to_a_file_holds_while_the_file_exists()
    {
        using var dir = new TempDir();
        var file = Path.Combine(dir.Path, "drift");
        var f = KernelFaults.Parse($"cpu:dense@{file}")!;
        Assert.Equal((ConvKind.Dense, TimeSpan.Zero, file), (f.Kind, f.After, f.WhileFile));
    }

    [Theory]
    [InlineData("cpu", "expected DEVICE:KIND")]
    [InlineData("cpu:conv", "unknown kind \"conv\"")]
    [InlineData("cpu:dense/simd", "unknown path \"simd\"")]
    [InlineData("cpu:dense@soon", "\"soon\" is neither a number of seconds nor an absolute file path")]
    [InlineData("cpu:dense+twice", "unknown effect \"twice\" (output, input-grad, late or eval)")]
    public void Bad_fault_specs_name_the_problem(string spec, string message)
    {
        var e = Assert.Throws<InputException>(() => KernelFaults.Parse(spec));
        Assert.Contains(message, e.Message);
    }

    // The ImageNet stem cells have F/4 and F/2 filters: F >= 8 keeps them above one channel.
    private static NetworkPlan Plan(Genotype genotype, StemKind stem, int channels, int size, bool aux, int filters = 4) =>
        NetworkPlan.Create(new NetworkConfig(genotype, 1, filters, 10, channels, size, stem, AuxHead: aux));

    /// <summary>Each layer of a sequence at its own input shape.</summary>
    private static IEnumerable<KernelCase> Walk(IEnumerable<Layer> layers, FeatureShape input, int batch)
    {
        foreach (var l in layers)
        {
            yield return new KernelCase(l, input, batch);
            input = l.Output(input);
        }
    }

    private static void AssertRight(IEnumerable<KernelCase> cases, KernelPlan plan, Precision precision)
    {
        var seed = 0;
        var wrong = cases.Select(c => ReferenceCheck.Run(c, plan, CPU, precision, seed++)).Where(r => !r.Right).ToList();
        Assert.True(wrong.Count == 0,
            $"{wrong.Count} of {seed} cases wrong ({precision.Name()}, {plan}):\n" + string.Join("\n", wrong.Take(10).Select(r => $"{r.Case}: {r.Wrong}")));
    }
}
