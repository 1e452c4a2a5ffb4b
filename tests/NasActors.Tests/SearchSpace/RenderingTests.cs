using NasActors.SearchSpace;

namespace NasActors.Tests.SearchSpace;

public class RenderingTests
{
    [Fact]
    public void Text_form_shows_each_block_and_the_output()
    {
        var text = GenotypeText.Format(NasNetA.Genotype);
        Assert.Contains("  b0 = sep_conv_5x5(h[i]) + sep_conv_3x3(h[i-1])\n", text);
        Assert.Contains("  b3 = avg_pool_3x3(b0) + identity(b1)\n", text);
        Assert.Contains("  out = concat(h[i-1], b0, b1, b2, b3, b4)\n", text);
        Assert.Contains("  out = concat(b1, b2, b3, b4)\n", text);
    }

    [Fact]
    public void Concat_blocks_and_implicit_outputs_are_marked()
    {
        var cell = new Cell([new Block(0, 1, Op.Conv1x1, Op.MaxPool5x5, Combine.Concat)]);
        var text = GenotypeText.Format(cell);
        Assert.Equal("  b0 = concat(conv_1x1(h[i]), max_pool_5x5(h[i-1]))\n  out = concat(b0)  (unused states)\n", text);
    }

    [Fact]
    public void Compact_form_is_one_line()
    {
        var line = GenotypeText.FormatCompact(NasNetA.Genotype);
        Assert.DoesNotContain("\n", line);
        Assert.StartsWith("N[b0=sep_conv_5x5(h[i])+sep_conv_3x3(h[i-1]) ", line);
        Assert.EndsWith("out=b1,b2,b3,b4]", line);
    }

    [Fact]
    public void Dot_graph_has_a_cluster_per_cell_and_an_edge_per_op_and_output()
    {
        var dot = GenotypeDot.Format(NasNetA.Genotype);
        Assert.StartsWith("digraph genotype {", dot);
        Assert.Contains("subgraph cluster_normal", dot);
        Assert.Contains("subgraph cluster_reduction", dot);
        Assert.Contains("reduction_s2 -> reduction_b3_a;", dot);
        // 10 ops x 2 edges + outputs, per cell.
        Assert.Equal(2 * 20 + 6 + 4, dot.Split('\n').Count(l => l.Contains("->")));
    }
}
