using NasActors.Training.Kernels;
using NasActors.Training.Networks;
using NasActors.SearchSpace;
using NasActors.Tests.Support;
using static TorchSharp.torch;

namespace NasActors.Tests.Training;

/// <summary>
/// A search is never biased against an op by a network it cannot build: every op of each space,
/// on every kind of cell input (the reduction cell's stride-2 inputs too), at the smallest filter
/// count a search allows, for both stems (small images, and the ImageNet stem with its
/// reduction stem cells), trains a step and gives finite values.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class EveryOpBuildsTests
{
    public static TheoryData<string, Op, int> Cases()
    {
        var data = new TheoryData<string, Op, int>();
        foreach (var space in SearchSpaces.Names.Select(SearchSpaces.Get))
            foreach (var op in space.Ops)
                foreach (var image in new[] { 8, 64 })
                    data.Add(space.Name, op, image);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Every_op_of_every_space_trains_a_step_at_the_smallest_sizes(string spaceName, Op op, int image)
    {
        var space = SearchSpaces.Get(spaceName);
        // Every block takes both cell inputs (h_i and h_{i-1}), then the block before it: the op
        // meets the cell's inputs (stride 2 in a reduction cell) and a block's output.
        var blocks = Enumerable.Range(0, space.DefaultBlocks)
            .Select(k => new Block(0, k == 0 ? 1 : k + 1, op, op, space.Combines[0])).ToList();
        var cell = new Cell(blocks, space.OutputFor(blocks.Count));
        var genotype = new Genotype(cell, cell);
        Assert.Empty(space.Errors(genotype));
        var plan = NetworkPlan.Create(new NetworkConfig(genotype, 1, 4, 10, 3, image, NetworkConfig.StemFor(image)));

        manual_seed(1);
        using var net = new NasNetwork(plan, KernelPlan.InLayout(false));
        net.train();
        using var x = randn(2, 3, image, image);
        using var logits = net.forward(x);
        Assert.Equal([2L, 10], logits.shape);
        using var loss = logits.square().mean();
        loss.backward();
        Assert.True(logits.isfinite().all().item<bool>());
        Assert.All(net.parameters(), p => Assert.True(p.grad is null || p.grad.isfinite().all().item<bool>()));
    }
}
