using System.Text;

namespace NasActors.SearchSpace;

/// <summary>Readable renderings: one line per block, or one line per genotype for tables.</summary>
public static class GenotypeText
{
    /// <summary>h[i] is the previous cell's output, h[i-1] the one before, bK block K's output.</summary>
    public static string StateName(int index) => index switch
    {
        0 => "h[i]",
        1 => "h[i-1]",
        _ => $"b{index - 2}",
    };

    public static string Format(Genotype genotype) =>
        $"normal:\n{Format(genotype.Normal)}reduction:\n{Format(genotype.Reduction)}";

    public static string Format(Cell cell)
    {
        var sb = new StringBuilder();
        for (var k = 0; k < cell.Blocks.Count; k++)
            sb.Append($"  b{k} = {BlockExpression(cell.Blocks[k])}\n");
        sb.Append($"  out = concat({string.Join(", ", cell.Output.Select(StateName))})");
        sb.Append(cell.ExplicitOutput is null ? "  (unused states)\n" : "\n");
        return sb.ToString();
    }

    /// <summary>One line, for tables and logs.</summary>
    public static string FormatCompact(Genotype genotype) =>
        $"N[{CompactCell(genotype.Normal)}] R[{CompactCell(genotype.Reduction)}]";

    private static string CompactCell(Cell cell) =>
        string.Join(" ", cell.Blocks.Select((b, k) => $"b{k}={BlockExpression(b).Replace(" ", "")}"))
        + $" out={string.Join(",", cell.Output.Select(StateName))}";

    private static string BlockExpression(Block b)
    {
        var a = $"{b.OpA.Name()}({StateName(b.InputA)})";
        var c = $"{b.OpB.Name()}({StateName(b.InputB)})";
        return b.Combine == Combine.Add ? $"{a} + {c}" : $"concat({a}, {c})";
    }
}

/// <summary>Graphviz DOT: one cluster per cell; render with <c>dot -Tsvg</c>.</summary>
public static class GenotypeDot
{
    public static string Format(Genotype genotype)
    {
        var sb = new StringBuilder();
        sb.Append("digraph genotype {\n  rankdir=TB;\n  node [fontname=\"Helvetica\", fontsize=11];\n");
        AppendCell(sb, "normal", "Normal cell", genotype.Normal);
        AppendCell(sb, "reduction", "Reduction cell", genotype.Reduction);
        sb.Append("}\n");
        return sb.ToString();
    }

    private static void AppendCell(StringBuilder sb, string id, string label, Cell cell)
    {
        string State(int i) => $"{id}_s{i}";
        sb.Append($"  subgraph cluster_{id} {{\n    label=\"{label}\";\n");
        sb.Append($"    {State(0)} [label=\"h[i]\", shape=box, style=filled, fillcolor=lightblue];\n");
        sb.Append($"    {State(1)} [label=\"h[i-1]\", shape=box, style=filled, fillcolor=lightblue];\n");
        for (var k = 0; k < cell.Blocks.Count; k++)
        {
            var b = cell.Blocks[k];
            var block = State(2 + k);
            sb.Append($"    {block} [label=\"b{k}: {b.Combine.Name()}\", shape=circle];\n");
            AppendOp(sb, $"{id}_b{k}_a", b.OpA, State(b.InputA), block);
            AppendOp(sb, $"{id}_b{k}_b", b.OpB, State(b.InputB), block);
        }
        sb.Append($"    {id}_out [label=\"concat\", shape=box, style=filled, fillcolor=lightyellow];\n");
        foreach (var o in cell.Output)
            sb.Append($"    {State(o)} -> {id}_out;\n");
        sb.Append("  }\n");
    }

    private static void AppendOp(StringBuilder sb, string node, Op op, string from, string to) =>
        sb.Append($"    {node} [label=\"{op.Name()}\", shape=box, style=rounded];\n    {from} -> {node};\n    {node} -> {to};\n");
}
