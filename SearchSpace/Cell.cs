namespace NasActors.SearchSpace;

/// <summary>One block: two inputs (hidden-state indices), an op on each, and how to combine them.</summary>
public sealed record Block(int InputA, int InputB, Op OpA, Op OpB, Combine Combine);

/// <summary>
/// A cell of B blocks. Hidden state 0 is h_i (the previous cell's output), 1 is h_{i-1},
/// 2 + k is block k's output. <see cref="ExplicitOutput"/> names the concatenated states;
/// when null the paper's rule applies (every hidden state that no block uses).
/// </summary>
public sealed class Cell : IEquatable<Cell>
{
    public Cell(IEnumerable<Block> blocks, IEnumerable<int>? explicitOutput = null)
    {
        Blocks = blocks.ToArray();
        ExplicitOutput = explicitOutput?.ToArray();
    }

    public IReadOnlyList<Block> Blocks { get; }

    public IReadOnlyList<int>? ExplicitOutput { get; }

    /// <summary>Number of hidden states: the two inputs plus one per block.</summary>
    public int HiddenStateCount => 2 + Blocks.Count;

    /// <summary>The hidden states concatenated into the cell's output, ascending.</summary>
    public IReadOnlyList<int> Output => ExplicitOutput ?? UnusedStates();

    /// <summary>The paper's rule: hidden states that no block takes as an input.</summary>
    public IReadOnlyList<int> UnusedStates()
    {
        var used = new bool[HiddenStateCount];
        foreach (var b in Blocks)
        {
            if (b.InputA >= 0 && b.InputA < used.Length) used[b.InputA] = true;
            if (b.InputB >= 0 && b.InputB < used.Length) used[b.InputB] = true;
        }
        return Enumerable.Range(0, used.Length).Where(i => !used[i]).ToArray();
    }

    public Cell WithOutput(IEnumerable<int>? output) => new(Blocks, output);

    public bool Equals(Cell? other) =>
        other is not null
        && Blocks.SequenceEqual(other.Blocks)
        && (ExplicitOutput is null
            ? other.ExplicitOutput is null
            : other.ExplicitOutput is not null && ExplicitOutput.SequenceEqual(other.ExplicitOutput));

    public override bool Equals(object? obj) => Equals(obj as Cell);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var b in Blocks) hash.Add(b);
        foreach (var o in ExplicitOutput ?? []) hash.Add(o);
        return hash.ToHashCode();
    }

    public override string ToString() => GenotypeText.Format(this);
}

/// <summary>An architecture: a Normal cell (keeps size) and a Reduction cell (halves it).</summary>
public sealed record Genotype(Cell Normal, Cell Reduction)
{
    public override string ToString() => GenotypeText.FormatCompact(this);
}
