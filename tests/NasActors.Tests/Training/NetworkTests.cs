using NasActors.Training.Kernels;
using NasActors.Training.Networks;
using NasActors.Protocol;
using NasActors.SearchSpace;
using NasActors.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace NasActors.Tests.Training;

[Collection(TorchCollection.Name)]
public class NetworkTests
{
    public static TheoryData<Op, int> OpsAndStrides()
    {
        var data = new TheoryData<Op, int>();
        foreach (var op in OpNames.All)
        {
            data.Add(op, 1);
            data.Add(op, 2);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(OpsAndStrides))]
    public void Each_op_has_the_planned_output_shape_and_passes_gradients(Op op, int stride)
    {
        torch.manual_seed(1);
        foreach (var inC in new[] { 8, 12 })
        {
            var layers = OpLayers.For(op, inC, 8, stride);
            using var module = LayerModules.Build(layers, DeviceKernels.Check(CPU).Plan!);
            using var x = randn(2, inC, 9, 9).requires_grad_(true);
            using var y = module.forward(x);
            var expected = layers.Output(new FeatureShape(inC, 9, 9));
            Assert.Equal(new long[] { 2, expected.Channels, expected.Height, expected.Width }, y.shape);
            Assert.Equal(new FeatureShape(8, stride == 1 ? 9 : 5, stride == 1 ? 9 : 5), expected);
            y.square().sum().backward();
            Assert.True(x.grad!.abs().sum().item<float>() > 0, $"{op.Name()} passes no gradient");
            Assert.Equal(layers.Parameters(), module.parameters().Sum(p => p.numel()));
        }
    }

    [Fact]
    public void A_reduction_cell_halves_height_and_width()
    {
        var plan = NetworkPlan.Create(Config(NasNetA.Genotype, size: 12));
        var reduction = plan.Cells.First(c => c.Reduction);
        Assert.Equal(reduction.HiShape.Height / 2, reduction.Output.Height);
        using var cell = new CellModule(reduction, DeviceKernels.Check(CPU).Plan!);
        using var hi = randn(2, reduction.HiShape.Channels, reduction.HiShape.Height, reduction.HiShape.Width);
        using var prev = randn(2, reduction.PrevShape.Channels, reduction.PrevShape.Height, reduction.PrevShape.Width);
        using var y = cell.forward(hi, prev);
        Assert.Equal(new long[] { 2, reduction.Output.Channels, 6, 6 }, y.shape);
    }

    [Fact]
    public void Random_genotypes_build_and_run_forward_and_backward()
    {
        var space = new DecisionSpace();
        var rng = new Random(11);
        torch.manual_seed(11);
        for (var i = 0; i < 30; i++)
        {
            // Half the samples have random explicit output sets, which may include h[i]/h[i-1] of a reduction cell.
            var g = space.Decode(space.Sample(rng));
            if (i % 2 == 1)
                g = g with { Reduction = g.Reduction.WithOutput(Enumerable.Range(0, 7).Where(_ => rng.Next(2) == 0).DefaultIfEmpty(0)) };
            var plan = NetworkPlan.Create(Config(g, size: 8, channels: 1 + i % 3));
            using var net = new NasNetwork(plan);
            Assert.Equal(plan.Parameters, net.CountParameters());
            using var scope = NewDisposeScope();
            var x = randn(2, 1 + i % 3, 8, 8);
            var logits = net.forward(x);
            Assert.Equal(new long[] { 2, 10 }, logits.shape);
            nn.functional.cross_entropy(logits, tensor(new long[] { 1, 7 })).backward();
            // Under the paper's rule every block reaches the output; an explicit set may leave blocks dead.
            if (i % 2 == 0)
                Assert.All(net.parameters(), p => Assert.NotNull(p.grad));
        }
    }

    [Theory]
    [InlineData(6, 32, 32, 10, StemKind.Cifar, null, 768, 3.3e6, null)]
    [InlineData(4, 44, 224, 1000, StemKind.ImageNet, 32, 1056, 5.3e6, 564e6)]
    [InlineData(6, 168, 331, 1000, StemKind.ImageNet, 96, 4032, 88.9e6, 23.8e9)]
    public void NasNetA_matches_the_published_sizes_within_2_percent(int n, int f, int size, int classes, StemKind stem, int? stemFilters, int p, double parameters, double? multAdds)
    {
        var plan = NetworkPlan.Create(new NetworkConfig(NasNetA.Genotype, n, f, classes, 3, size, stem, stemFilters));
        Assert.Equal(p, plan.PenultimateFilters);
        Assert.InRange(plan.Parameters, parameters * 0.98, parameters * 1.02);
        if (multAdds is { } m)
            Assert.InRange(plan.MultAdds, m * 0.98, m * 1.02);
    }

    [Fact]
    public void The_built_CIFAR_and_mobile_networks_have_exactly_the_counted_parameters()
    {
        foreach (var config in new[]
        {
            new NetworkConfig(NasNetA.Genotype, 6, 32, 10, 3, 32, StemKind.Cifar),
            new NetworkConfig(NasNetA.Genotype, 4, 44, 1000, 3, 224, StemKind.ImageNet, 32, AuxHead: true),
        })
        {
            var plan = NetworkPlan.Create(config);
            using var net = new NasNetwork(plan);
            Assert.Equal(plan.Parameters, net.CountParameters());
        }
    }

    [Fact]
    public void Auxiliary_head_gives_logits_in_training_only()
    {
        var plan = NetworkPlan.Create(Config(NasNetA.Genotype, size: 16) with { AuxHead = true });
        using var net = new NasNetwork(plan);
        using var x = randn(2, 3, 16, 16);
        net.train();
        var (logits, aux) = net.ForwardWithAux(x);
        Assert.Equal(new long[] { 2, 10 }, aux!.shape);
        Assert.Equal(new long[] { 2, 10 }, logits.shape);
        net.eval();
        Assert.Null(net.ForwardWithAux(x).AuxLogits);
    }

    [Fact]
    public void Drop_path_probability_grows_with_progress_and_depth()
    {
        var plan = NetworkPlan.Create(Config(NasNetA.Genotype, size: 8) with { DropPathKeep = 0.6 });
        using var net = new NasNetwork(plan);
        var cells = net.modules().OfType<CellModule>().ToList();
        net.SetDropPathProgress(0);
        Assert.All(cells, c => Assert.Equal(1.0, c.DropPathKeep));
        net.SetDropPathProgress(1);
        Assert.Equal(0.6, cells[^1].DropPathKeep, 9);
        Assert.Equal(1 - 0.4 / cells.Count, cells[0].DropPathKeep, 9);
        net.SetDropPathProgress(0.5);
        Assert.Equal(0.8, cells[^1].DropPathKeep, 9);
    }

    [Fact]
    public void Impossible_networks_are_refused_with_the_reason()
    {
        Assert.Contains("--image: image size must be between 8 and 1024", Assert.Throws<InputException>(() => NetworkPlan.Create(Config(NasNetA.Genotype, size: 2))).Message);
        Assert.Contains("too small", Assert.Throws<InputException>(() => NetworkPlan.Create(Config(NasNetA.Genotype, size: 16) with { Stem = StemKind.ImageNet })).Message);
        Assert.Contains("filters (F)", Assert.Throws<InputException>(() => NetworkPlan.Create(Config(NasNetA.Genotype, size: 8) with { Filters = 2 })).Message);
        var bad = NasNetA.Genotype with { Normal = NasNetA.Normal.WithOutput([9]) };
        Assert.Throws<InvalidGenotypeException>(() => NetworkPlan.Create(Config(bad, size: 8)));
    }

    internal static NetworkConfig Config(Genotype g, int size, int channels = 3) =>
        new(g, Cells: 1, Filters: 4, Classes: 10, InputChannels: channels, ImageSize: size, Stem: StemKind.Cifar);
}
