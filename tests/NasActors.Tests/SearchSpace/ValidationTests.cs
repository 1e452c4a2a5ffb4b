using NasActors.SearchSpace;

namespace NasActors.Tests.SearchSpace;

public class ValidationTests
{
    private static Cell WithBlock(Cell cell, int k, Block block) =>
        new(cell.Blocks.Select((b, i) => i == k ? block : b), cell.ExplicitOutput);

    [Fact]
    public void NasNetA_is_valid_and_has_the_published_output_sets()
    {
        Assert.Empty(GenotypeValidator.Errors(NasNetA.Genotype));
        Assert.Equal([1, 2, 3, 4, 5, 6], NasNetA.Normal.Output);
        Assert.Equal([3, 4, 5, 6], NasNetA.Reduction.Output);
    }

    [Fact]
    public void A_genotypes_block_count_is_its_own_and_both_cells_share_it()
    {
        var four = new Cell(NasNetA.Normal.Blocks.Take(4));
        var fourReduction = new Cell(NasNetA.Reduction.Blocks.Take(4));
        Assert.Equal(["$.reduction.blocks: has 5 blocks, the normal cell has 4 (both cells have the same number)"],
            GenotypeValidator.Errors(new Genotype(four, NasNetA.Reduction)));
        Assert.Empty(GenotypeValidator.Errors(new Genotype(four, fourReduction)));
        Assert.Empty(GenotypeValidator.Errors(new Genotype(new Cell(NasNetA.Normal.Blocks.Take(1)), new Cell(NasNetA.Reduction.Blocks.Take(1)))));
        // Where a B is required (a run's settings), a genotype of another B is named as such.
        Assert.Equal(["$.normal.blocks: has 4 blocks, expected 5", "$.reduction.blocks: has 4 blocks, expected 5"],
            GenotypeValidator.Errors(new Genotype(four, fourReduction), blocks: 5));
        Assert.Equal(["$.normal.blocks: a cell needs at least one block"], GenotypeValidator.Errors(new Genotype(new Cell([]), new Cell([]))));
    }

    [Fact]
    public void Unknown_op_is_named()
    {
        var cell = WithBlock(NasNetA.Normal, 1, NasNetA.Normal.Blocks[1] with { OpB = (Op)99 });
        var error = Assert.Single(GenotypeValidator.Errors(new Genotype(cell, NasNetA.Reduction)));
        Assert.Equal("$.normal.blocks[1].ops[1]: unknown op value 99", error);
    }

    [Theory]
    [InlineData(0, 2)]
    [InlineData(2, 4)]
    [InlineData(4, 6)]
    [InlineData(3, -1)]
    public void Input_that_the_block_cannot_see_is_named(int block, int input)
    {
        var cell = WithBlock(NasNetA.Reduction, block, NasNetA.Reduction.Blocks[block] with { InputA = input });
        var error = Assert.Single(GenotypeValidator.Errors(new Genotype(NasNetA.Normal, cell)));
        Assert.Equal($"$.reduction.blocks[{block}].inputs[0]: input index {input} is out of reach for block {block} (must be 0..{1 + block})", error);
    }

    [Fact]
    public void Input_at_the_edge_of_reach_is_valid()
    {
        var cell = WithBlock(NasNetA.Normal, 4, NasNetA.Normal.Blocks[4] with { InputB = 5 });
        Assert.Empty(GenotypeValidator.Errors(new Genotype(cell, NasNetA.Reduction)));
    }

    [Fact]
    public void Output_index_out_of_range_is_named()
    {
        var cell = NasNetA.Normal.WithOutput([1, 7]);
        var error = Assert.Single(GenotypeValidator.Errors(new Genotype(cell, NasNetA.Reduction)));
        Assert.Equal("$.normal.output[1]: hidden state 7 is out of range (0..6)", error);
    }

    [Fact]
    public void Empty_and_duplicated_output_sets_are_named()
    {
        Assert.Equal(["$.reduction.output: empty output set"],
            GenotypeValidator.Errors(new Genotype(NasNetA.Normal, NasNetA.Reduction.WithOutput([]))));
        Assert.Equal(["$.reduction.output[1]: hidden state 3 is listed twice"],
            GenotypeValidator.Errors(new Genotype(NasNetA.Normal, NasNetA.Reduction.WithOutput([3, 3]))));
    }

    [Fact]
    public void Every_problem_is_reported_and_Validated_throws_with_all_of_them()
    {
        var bad = new Genotype(new Cell(NasNetA.Normal.Blocks.Take(4), [9]), NasNetA.Reduction);
        var e = Assert.Throws<InvalidGenotypeException>(() => bad.Validated());
        Assert.Equal(2, e.Errors.Count);
        Assert.Contains("$.reduction.blocks: has 5 blocks", e.Message);
        Assert.Contains("$.normal.output[0]: hidden state 9", e.Message);
    }

    [Fact]
    public void The_papers_rule_takes_the_states_no_block_uses()
    {
        // NASNet-A's normal blocks use h[i] and h[i-1] only: all five blocks are unused.
        Assert.Equal([2, 3, 4, 5, 6], NasNetA.Normal.WithOutput(null).Output);
        // The reduction cell's blocks 3 and 4 use b0 and b1.
        Assert.Equal([4, 5, 6], NasNetA.Reduction.WithOutput(null).Output);
    }
}
