using System.Numerics;

namespace NasActors.SearchSpace;

/// <summary>What a controller decision chooses; five per block, in this order.</summary>
public enum DecisionKind
{
    InputA,
    InputB,
    OpA,
    OpB,
    Combine,
}

/// <summary>
/// The controller's view of the search space: a genotype is a sequence of 2 x 5B integers
/// (normal cell's blocks, then the reduction cell's; per block input A, input B, op A, op B,
/// combine). Output sets are not decisions: a decoded genotype uses the paper's rule.
/// </summary>
public sealed class DecisionSpace
{
    public const int DecisionsPerBlock = 5;

    public DecisionSpace(int blocks = GenotypeValidator.DefaultBlocks)
    {
        if (blocks < 1)
            throw new ArgumentOutOfRangeException(nameof(blocks), blocks, "a cell needs at least one block");
        Blocks = blocks;
    }

    public int Blocks { get; }

    /// <summary>Total decisions for both cells: 2 x 5B.</summary>
    public int Length => 2 * DecisionsPerBlock * Blocks;

    public DecisionKind Kind(int step) => (DecisionKind)(CheckStep(step) % DecisionsPerBlock);

    /// <summary>The block (within its cell) that a step belongs to.</summary>
    public int BlockOf(int step) => CheckStep(step) / DecisionsPerBlock % Blocks;

    /// <summary>Number of valid choices at a step: 2 + k inputs for block k, 13 ops, 2 combines.</summary>
    public int ChoiceCount(int step) => Kind(step) switch
    {
        DecisionKind.InputA or DecisionKind.InputB => 2 + BlockOf(step),
        DecisionKind.OpA or DecisionKind.OpB => OpNames.All.Count,
        _ => 2,
    };

    /// <summary>The largest <see cref="ChoiceCount"/> of any input step (for masking a shared classifier).</summary>
    public int MaxInputChoices => 1 + Blocks;

    public int[] Encode(Genotype genotype)
    {
        genotype.Validated(Blocks);
        var decisions = new int[Length];
        var i = 0;
        foreach (var cell in new[] { genotype.Normal, genotype.Reduction })
        {
            foreach (var b in cell.Blocks)
            {
                decisions[i++] = b.InputA;
                decisions[i++] = b.InputB;
                decisions[i++] = (int)b.OpA;
                decisions[i++] = (int)b.OpB;
                decisions[i++] = (int)b.Combine;
            }
        }
        return decisions;
    }

    public Genotype Decode(IReadOnlyList<int> decisions)
    {
        if (decisions.Count != Length)
            throw new ArgumentException($"expected {Length} decisions for B = {Blocks}, got {decisions.Count}", nameof(decisions));
        for (var step = 0; step < Length; step++)
        {
            if (decisions[step] < 0 || decisions[step] >= ChoiceCount(step))
                throw new ArgumentException(
                    $"decision {step} ({Kind(step)} of block {BlockOf(step)}) is {decisions[step]}, valid 0..{ChoiceCount(step) - 1}",
                    nameof(decisions));
        }
        return new Genotype(DecodeCell(decisions, 0), DecodeCell(decisions, DecisionsPerBlock * Blocks));
    }

    private Cell DecodeCell(IReadOnlyList<int> d, int offset) =>
        new(Enumerable.Range(0, Blocks).Select(k =>
        {
            var s = offset + k * DecisionsPerBlock;
            return new Block(d[s], d[s + 1], (Op)d[s + 2], (Op)d[s + 3], (Combine)d[s + 4]);
        }));

    /// <summary>
    /// Distinct cells for B blocks, counted as the controller counts them (distinct decision
    /// sequences): the product over blocks k of (2 + k)^2 x 13^2 x 2.
    /// </summary>
    public static BigInteger CellCount(int blocks)
    {
        var space = new DecisionSpace(blocks);
        BigInteger count = 1;
        for (var step = 0; step < DecisionsPerBlock * blocks; step++)
            count *= space.ChoiceCount(step);
        return count;
    }

    private int CheckStep(int step) =>
        step >= 0 && step < Length ? step : throw new ArgumentOutOfRangeException(nameof(step), step, $"steps are 0..{Length - 1}");
}

public static class DecisionSampling
{
    /// <summary>Uniformly random valid decisions (the paper's random-search baseline draws these).</summary>
    public static int[] Sample(this DecisionSpace space, Random rng)
    {
        var decisions = new int[space.Length];
        for (var step = 0; step < decisions.Length; step++)
            decisions[step] = rng.Next(space.ChoiceCount(step));
        return decisions;
    }
}
