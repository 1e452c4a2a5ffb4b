using NasActors.SearchSpace;

namespace NasActors.ChildTrainer.Synthetic;

/// <summary>
/// An instant, deterministic stand-in for a child's validation accuracy, for tests and benchmarks
/// of the control plane: separable and dilated convs score best, pools next, identity and plain
/// 1x1 convs least; block outputs used as inputs add depth; a small hash-based noise term makes
/// near-identical cells differ. Always within [0, 1].
/// </summary>
public static class SyntheticObjective
{
    private static double OpScore(Op op) => op switch
    {
        Op.SepConv3x3 or Op.SepConv5x5 or Op.SepConv7x7 => 1.0,
        Op.DilConv3x3 or Op.Conv1x7Then7x1 or Op.Conv1x3Then3x1 or Op.Conv3x3 => 0.7,
        Op.AvgPool3x3 or Op.MaxPool3x3 or Op.MaxPool5x5 or Op.MaxPool7x7 => 0.5,
        _ => 0.2,
    };

    public static double Accuracy(Genotype genotype, long seed = 0)
    {
        var blocks = genotype.Normal.Blocks.Concat(genotype.Reduction.Blocks).ToList();
        var ops = blocks.Average(b => (OpScore(b.OpA) + OpScore(b.OpB)) / 2);
        var depth = blocks.Average(b => (b.InputA >= 2 ? 0.5 : 0) + (b.InputB >= 2 ? 0.5 : 0));
        var noise = (StableHash(GenotypeJson.Write(genotype, indented: false), seed) % 10_000 / 10_000.0 - 0.5) * 0.04;
        return Math.Clamp(0.55 + 0.3 * ops + 0.1 * depth + noise, 0, 1);
    }

    /// <summary>FNV-1a: unlike string.GetHashCode, the same in every process.</summary>
    internal static ulong StableHash(string text, long seed)
    {
        var hash = 14695981039346656037UL ^ (ulong)seed;
        foreach (var ch in text)
        {
            hash ^= ch;
            hash *= 1099511628211UL;
        }
        return hash;
    }
}
