namespace NasActors.SearchSpace;

/// <summary>Which hidden states a decoded cell concatenates into its output.</summary>
public enum OutputRule
{
    /// <summary>NASNet's rule: every hidden state that no block takes as an input.</summary>
    UnusedStates,

    /// <summary>DARTS' rule: every block's output (its "intermediate states"), whether used or not.</summary>
    AllBlocks,
}

/// <summary>
/// A search space: what a strategy may choose for each block. <see cref="Ops"/> is the op
/// decision's order (decision value = index), <see cref="Combines"/> the combine decision's;
/// <see cref="DistinctInputs"/> makes a block's two inputs two different states (DARTS keeps
/// the two strongest edges from two different predecessors).
/// </summary>
public sealed record SpaceDefinition(
    string Name,
    int DefaultBlocks,
    IReadOnlyList<Op> Ops,
    IReadOnlyList<Combine> Combines,
    OutputRule Output,
    bool DistinctInputs,
    string Description)
{
    /// <summary>The op's decision value in this space, or -1 where the space has no such op.</summary>
    public int OpIndex(Op op) => IndexOf(Ops, op);

    public int CombineIndex(Combine combine) => IndexOf(Combines, combine);

    // No copy per call: the report looks up every op of every child.
    private static int IndexOf<T>(IReadOnlyList<T> list, T item) where T : struct, Enum
    {
        for (var i = 0; i < list.Count; i++)
            if (EqualityComparer<T>.Default.Equals(list[i], item)) return i;
        return -1;
    }

    /// <summary>The output set a decoded cell gets: null where the paper's unused-states rule applies.</summary>
    public IReadOnlyList<int>? OutputFor(int blocks) =>
        Output == OutputRule.AllBlocks ? Enumerable.Range(2, blocks).ToArray() : null;

    /// <summary>
    /// Every choice of <paramref name="genotype"/> this space cannot make, each naming where; empty
    /// when its decisions can express it. Output sets are not decisions (NASNet-A's are its own).
    /// </summary>
    public IReadOnlyList<string> Errors(Genotype genotype)
    {
        var errors = new List<string>();
        foreach (var (cell, name) in new[] { (genotype.Normal, "normal"), (genotype.Reduction, "reduction") })
        {
            for (var k = 0; k < cell.Blocks.Count; k++)
            {
                var b = cell.Blocks[k];
                var path = $"$.{name}.blocks[{k}]";
                foreach (var (op, i) in new[] { (b.OpA, 0), (b.OpB, 1) })
                {
                    if (!Ops.Contains(op))
                        errors.Add($"{path}.ops[{i}]: {op.Name()} is not an op of the {Name} space");
                }
                if (!Combines.Contains(b.Combine))
                    errors.Add($"{path}.combine: {b.Combine.Name()} is not a combine of the {Name} space");
                if (DistinctInputs && b.InputA == b.InputB)
                    errors.Add($"{path}.inputs: the {Name} space takes two different states, not {GenotypeText.StateName(b.InputA)} twice");
            }
        }
        return errors;
    }
}

/// <summary>The search spaces there are, by name: configuration as data, one entry each.</summary>
public static class SearchSpaces
{
    public const string DefaultName = "nasnet";

    public static SpaceDefinition NasNet { get; } = new(
        DefaultName,
        GenotypeValidator.DefaultBlocks,
        [.. OpNames.All.Take(13)],
        [Combine.Add, Combine.Concat],
        OutputRule.UnusedStates,
        DistinctInputs: false,
        "NASNet (Zoph et al. 2017): 13 ops, add or concat, B = 5, unused states concatenated");

    public static SpaceDefinition Darts { get; } = new(
        "darts",
        4,
        [Op.SepConv3x3, Op.SepConv5x5, Op.DilSepConv3x3, Op.DilSepConv5x5, Op.MaxPool3x3, Op.AvgPool3x3, Op.SkipConnect],
        [Combine.Add],
        OutputRule.AllBlocks,
        DistinctInputs: true,
        "DARTS (Liu et al. 2019): 7 ops (its 'none' is no choice for a derived cell), two different inputs per block, add, B = 4, every block concatenated");

    private static readonly IReadOnlyDictionary<string, SpaceDefinition> ByName =
        new[] { NasNet, Darts }.ToDictionary(s => s.Name);

    public static IReadOnlyCollection<string> Names => [.. ByName.Keys];

    /// <summary>The space of that name, or null.</summary>
    public static SpaceDefinition? Find(string name) => ByName.GetValueOrDefault(name);

    /// <summary>The space of that name; an unknown name is an error listing the known ones.</summary>
    public static SpaceDefinition Get(string name) =>
        Find(name) ?? throw new ArgumentException($"unknown search space \"{name}\" (expected {string.Join(", ", Names)})", nameof(name));

    /// <summary>The spaces that hold <paramref name="genotype"/> as it is.</summary>
    public static IReadOnlyList<SpaceDefinition> Containing(Genotype genotype) =>
        [.. ByName.Values.Where(s => s.Errors(genotype).Count == 0)];
}
