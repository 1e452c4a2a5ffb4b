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
/// The controller's view of a search space: a genotype is a sequence of 2 x 5B integers
/// (normal cell's blocks, then the reduction cell's; per block input A, input B, op A, op B,
/// combine). An op or combine decision is an index into the space's own list; where the space
/// takes two different inputs, input B counts the states other than input A. Output sets are
/// not decisions: a decoded genotype gets the space's output rule.
/// </summary>
public sealed class DecisionSpace
{
    public const int DecisionsPerBlock = 5;

    /// <summary>The NASNet space with B blocks (its op index is the op's value).</summary>
    public DecisionSpace(int blocks = GenotypeValidator.DefaultBlocks)
        : this(SearchSpaces.NasNet, blocks)
    {
    }

    public DecisionSpace(SpaceDefinition definition, int blocks)
    {
        if (blocks < 1)
            throw new ArgumentOutOfRangeException(nameof(blocks), blocks, "a cell needs at least one block");
        Definition = definition;
        Blocks = blocks;
    }

    public SpaceDefinition Definition { get; }

    public int Blocks { get; }

    /// <summary>Total decisions for both cells: 2 x 5B.</summary>
    public int Length => 2 * DecisionsPerBlock * Blocks;

    public DecisionKind Kind(int step) => (DecisionKind)(CheckStep(step) % DecisionsPerBlock);

    /// <summary>The block (within its cell) that a step belongs to.</summary>
    public int BlockOf(int step) => CheckStep(step) / DecisionsPerBlock % Blocks;

    /// <summary>Number of valid choices at a step: 2 + k inputs for block k (one fewer for a distinct input B), the space's ops and combines.</summary>
    public int ChoiceCount(int step) => Kind(step) switch
    {
        DecisionKind.InputA => 2 + BlockOf(step),
        DecisionKind.InputB => 2 + BlockOf(step) - (Definition.DistinctInputs ? 1 : 0),
        DecisionKind.OpA or DecisionKind.OpB => Definition.Ops.Count,
        _ => Definition.Combines.Count,
    };

    /// <summary>The largest <see cref="ChoiceCount"/> of any input step (for masking a shared classifier).</summary>
    public int MaxInputChoices => 1 + Blocks;

    /// <summary>Choices of every op step, and of every combine step.</summary>
    public int OpChoices => Definition.Ops.Count;

    public int CombineChoices => Definition.Combines.Count;

    public int[] Encode(Genotype genotype)
    {
        genotype.Validated(Blocks);
        if (Definition.Errors(genotype) is { Count: > 0 } outside)
            throw new InvalidGenotypeException(outside);
        var decisions = new int[Length];
        var i = 0;
        foreach (var cell in new[] { genotype.Normal, genotype.Reduction })
        {
            foreach (var b in cell.Blocks)
            {
                decisions[i++] = b.InputA;
                decisions[i++] = Definition.DistinctInputs && b.InputB > b.InputA ? b.InputB - 1 : b.InputB;
                decisions[i++] = Definition.OpIndex(b.OpA);
                decisions[i++] = Definition.OpIndex(b.OpB);
                decisions[i++] = Definition.CombineIndex(b.Combine);
            }
        }
        return decisions;
    }

    public Genotype Decode(IReadOnlyList<int> decisions) =>
        Invalid(decisions as int[] ?? [.. decisions]) is { } why
            ? throw new ArgumentException(why, nameof(decisions))
            : new Genotype(DecodeCell(decisions, 0), DecodeCell(decisions, DecisionsPerBlock * Blocks));

    /// <summary>
    /// Why <paramref name="decisions"/> are no network of this space (null: they are one), without
    /// building it: a restored snapshot checks 20,000 children's this way, so the counts are computed once.
    /// </summary>
    public string? Invalid(ReadOnlySpan<int> decisions)
    {
        if (decisions.Length != Length) return $"expected {Length} decisions for B = {Blocks}, got {decisions.Length}";
        var counts = choiceCounts ??= [.. Enumerable.Range(0, Length).Select(ChoiceCount)];
        for (var step = 0; step < counts.Length; step++)
            if ((uint)decisions[step] >= (uint)counts[step])
                return $"decision {step} ({Kind(step)} of block {BlockOf(step)}) is {decisions[step]}, valid 0..{counts[step] - 1}";
        return null;
    }

    private int[]? choiceCounts;

    private Cell DecodeCell(IReadOnlyList<int> d, int offset) =>
        new(Enumerable.Range(0, Blocks).Select(k =>
        {
            var s = offset + k * DecisionsPerBlock;
            var inputB = Definition.DistinctInputs && d[s + 1] >= d[s] ? d[s + 1] + 1 : d[s + 1];
            return new Block(d[s], inputB, Definition.Ops[d[s + 2]], Definition.Ops[d[s + 3]], Definition.Combines[d[s + 4]]);
        }),
        Definition.OutputFor(Blocks));

    /// <summary>
    /// Distinct cells for B blocks, counted as the controller counts them (distinct decision
    /// sequences): for NASNet the product over blocks k of (2 + k)^2 x 13^2 x 2.
    /// </summary>
    public static BigInteger CellCount(int blocks) => new DecisionSpace(blocks).CellCount();

    public BigInteger CellCount()
    {
        BigInteger count = 1;
        for (var step = 0; step < DecisionsPerBlock * Blocks; step++)
            count *= ChoiceCount(step);
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
