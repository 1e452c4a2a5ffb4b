using NasActors.SearchSpace;

namespace NasActors.Bench;

/// <summary>
/// Rewards computed from the genotype alone, each with a best value of 1, to measure how fast a
/// strategy learns (the tests use them too): one additive in the ops, one where a block's worth
/// depends on the block before it.
/// </summary>
public static class Objectives
{
    private static readonly HashSet<Op> Preferred = [Op.SepConv3x3, Op.MaxPool3x3, Op.DilConv3x3];

    public static IReadOnlyDictionary<string, Func<Genotype, double>> ByName { get; } = new Dictionary<string, Func<Genotype, double>>
    {
        ["preferred-ops"] = PreferredOps,
        ["chained-blocks"] = ChainedBlocks,
    };

    /// <summary>Additive: the fraction of the 4B ops that belong to a hidden preferred set (3 of 13 ops).</summary>
    public static double PreferredOps(Genotype g)
    {
        var ops = g.Normal.Blocks.Concat(g.Reduction.Blocks).SelectMany(b => new[] { b.OpA, b.OpB }).ToList();
        return ops.Count(Preferred.Contains) / (double)ops.Count;
    }

    /// <summary>
    /// Interactions between blocks: per block, half a point for taking the previous block's output
    /// as input A (the first block: h_i), half for applying to it the op that the previous block
    /// applied to its input B (the first block: its own op B). No op is better than another; only
    /// agreeing blocks are, so a decision's worth depends on other decisions.
    /// </summary>
    public static double ChainedBlocks(Genotype g)
    {
        double Score(Cell cell) => cell.Blocks.Select((b, k) =>
            0.5 * (b.InputA == (k == 0 ? 0 : k + 1) ? 1 : 0) + 0.5 * (b.OpA == (k == 0 ? b.OpB : cell.Blocks[k - 1].OpB) ? 1 : 0)).Average();
        return (Score(g.Normal) + Score(g.Reduction)) / 2;
    }

    /// <summary>The mean of the best <paramref name="k"/> rewards.</summary>
    public static double TopMean(IEnumerable<double> rewards, int k = 10) => rewards.OrderDescending().Take(k).Average();
}
