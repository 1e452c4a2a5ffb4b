namespace NasActors.SearchSpace;

/// <summary>A genotype that breaks a rule of the search space; the message names every problem.</summary>
public sealed class InvalidGenotypeException(IReadOnlyList<string> errors)
    : Exception(string.Join("; ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}

public static class GenotypeValidator
{
    /// <summary>The default number of blocks per cell (the paper's B = 5).</summary>
    public const int DefaultBlocks = 5;

    /// <summary>
    /// Every rule the genotype breaks, each naming its JSON path; empty when valid. A genotype's B
    /// is its own (both cells the same); <paramref name="blocks"/> requires a given B as well.
    /// </summary>
    public static IReadOnlyList<string> Errors(Genotype genotype, int? blocks = null)
    {
        if (blocks < 1)
            throw new ArgumentOutOfRangeException(nameof(blocks), "a cell needs at least one block");
        var errors = new List<string>();
        var own = genotype.Normal.Blocks.Count;
        if (own == 0)
            errors.Add("$.normal.blocks: a cell needs at least one block");
        else if (blocks is { } b && own != b)
            errors.Add($"$.normal.blocks: has {own} blocks, expected {b}");
        if (genotype.Reduction.Blocks.Count != (blocks ?? own))
            errors.Add($"$.reduction.blocks: has {genotype.Reduction.Blocks.Count} blocks, " +
                (blocks is null ? $"the normal cell has {own} (both cells have the same number)" : $"expected {blocks}"));
        Check(genotype.Normal, "normal", errors);
        Check(genotype.Reduction, "reduction", errors);
        return errors;
    }

    /// <summary>Throws <see cref="InvalidGenotypeException"/> when the genotype is not valid.</summary>
    public static Genotype Validated(this Genotype genotype, int? blocks = null)
    {
        var errors = Errors(genotype, blocks);
        return errors.Count == 0 ? genotype : throw new InvalidGenotypeException(errors);
    }

    private static void Check(Cell cell, string cellName, List<string> errors)
    {
        var name = $"$.{cellName}";

        for (var k = 0; k < cell.Blocks.Count; k++)
        {
            var b = cell.Blocks[k];
            CheckInput(b.InputA, $"{name}.blocks[{k}].inputs[0]", k, errors);
            CheckInput(b.InputB, $"{name}.blocks[{k}].inputs[1]", k, errors);
            CheckOp(b.OpA, $"{name}.blocks[{k}].ops[0]", errors);
            CheckOp(b.OpB, $"{name}.blocks[{k}].ops[1]", errors);
            if (!Enum.IsDefined(b.Combine))
                errors.Add($"{name}.blocks[{k}].combine: unknown combine value {(int)b.Combine} (expected add or concat)");
        }

        // Under the paper's rule the last block is never an input, so only an explicit set can be empty.
        if (cell.ExplicitOutput is { } output)
        {
            if (output.Count == 0)
                errors.Add($"{name}.output: empty output set");
            for (var i = 0; i < output.Count; i++)
            {
                if (output[i] < 0 || output[i] >= cell.HiddenStateCount)
                    errors.Add($"{name}.output[{i}]: hidden state {output[i]} is out of range (0..{cell.HiddenStateCount - 1})");
                else if (output.Take(i).Contains(output[i]))
                    errors.Add($"{name}.output[{i}]: hidden state {output[i]} is listed twice");
            }
        }
    }

    private static void CheckInput(int index, string path, int block, List<string> errors)
    {
        if (index < 0 || index >= 2 + block)
            errors.Add($"{path}: input index {index} is out of reach for block {block} (must be 0..{1 + block})");
    }

    private static void CheckOp(Op op, string path, List<string> errors)
    {
        if (!Enum.IsDefined(op))
            errors.Add($"{path}: unknown op value {(int)op}");
    }
}
