using System.Numerics;
using NasActors.SearchSpace;

namespace NasActors.Tests.SearchSpace;

public class EncodingTests
{
    public static TheoryData<int> BlockCounts => new() { 1, 2, 3, 5, 8 };

    [Theory]
    [MemberData(nameof(BlockCounts))]
    public void Decode_then_encode_returns_the_same_decisions_for_random_samples(int blocks)
    {
        var space = new DecisionSpace(blocks);
        var rng = new Random(1000 + blocks);
        for (var i = 0; i < 2000; i++)
        {
            var decisions = space.Sample(rng);
            var genotype = space.Decode(decisions);
            Assert.Empty(GenotypeValidator.Errors(genotype, blocks));
            Assert.Equal(decisions, space.Encode(genotype));
        }
    }

    [Theory]
    [MemberData(nameof(BlockCounts))]
    public void Encode_then_decode_returns_the_same_genotype_for_random_genotypes(int blocks)
    {
        var space = new DecisionSpace(blocks);
        var rng = new Random(2000 + blocks);
        for (var i = 0; i < 2000; i++)
        {
            // Built directly from blocks, not via Decode, so the property does not assume Decode is right.
            var genotype = new Genotype(RandomCell(rng, blocks), RandomCell(rng, blocks));
            Assert.Equal(genotype, space.Decode(space.Encode(genotype)));
        }
    }

    [Fact]
    public void Explicit_output_sets_are_not_decisions_so_decoding_applies_the_papers_rule()
    {
        var space = new DecisionSpace();
        var decoded = space.Decode(space.Encode(NasNetA.Genotype));
        Assert.Equal(NasNetA.Normal.Blocks, decoded.Normal.Blocks);
        Assert.Null(decoded.Normal.ExplicitOutput);
        Assert.Equal(decoded.Normal.UnusedStates(), decoded.Normal.Output);
    }

    [Fact]
    public void Choice_counts_follow_the_block_position()
    {
        var space = new DecisionSpace(5);
        Assert.Equal(50, space.Length);
        int[] expectedBlock0 = [2, 2, 13, 13, 2];
        int[] expectedBlock4 = [6, 6, 13, 13, 2];
        Assert.Equal(expectedBlock0, Enumerable.Range(0, 5).Select(space.ChoiceCount));
        Assert.Equal(expectedBlock4, Enumerable.Range(20, 5).Select(space.ChoiceCount));
        // The reduction cell restarts at block 0.
        Assert.Equal(expectedBlock0, Enumerable.Range(25, 5).Select(space.ChoiceCount));
        Assert.Equal(DecisionKind.OpB, space.Kind(28));
    }

    [Fact]
    public void Decode_rejects_a_decision_out_of_its_range_naming_the_step()
    {
        var space = new DecisionSpace(5);
        var decisions = space.Encode(NasNetA.Genotype);
        decisions[20] = 6; // block 4's input A has 6 choices: 0..5
        var e = Assert.Throws<ArgumentException>(() => space.Decode(decisions));
        Assert.Contains("decision 20", e.Message);
        Assert.Contains("valid 0..5", e.Message);
        Assert.Throws<ArgumentException>(() => space.Decode(decisions.Take(49).ToArray()));
    }

    [Fact]
    public void Search_space_size_is_the_product_of_choice_counts()
    {
        Assert.Equal(new BigInteger(4 * 169 * 2), DecisionSpace.CellCount(1));
        var expected = BigInteger.Pow(2 * 3 * 4 * 5 * 6, 2) * BigInteger.Pow(13 * 13 * 2, 5);
        Assert.Equal(expected, DecisionSpace.CellCount(5));
        Assert.Throws<ArgumentOutOfRangeException>(() => DecisionSpace.CellCount(0));
    }

    [Theory]
    [MemberData(nameof(BlockCounts))]
    public void The_darts_space_decodes_only_its_own_cells_and_encodes_them_back(int blocks)
    {
        var space = new DecisionSpace(SearchSpaces.Darts, blocks);
        var rng = new Random(3000 + blocks);
        for (var i = 0; i < 2000; i++)
        {
            var decisions = space.Sample(rng);
            var genotype = space.Decode(decisions);
            Assert.Empty(GenotypeValidator.Errors(genotype, blocks));
            Assert.Empty(SearchSpaces.Darts.Errors(genotype));
            foreach (var cell in new[] { genotype.Normal, genotype.Reduction })
            {
                Assert.All(cell.Blocks, b => Assert.NotEqual(b.InputA, b.InputB));
                Assert.Equal(Enumerable.Range(2, blocks), cell.Output);
            }
            Assert.Equal(decisions, space.Encode(genotype));
        }
    }

    [Fact]
    public void The_darts_space_has_its_choice_counts_and_size_and_holds_the_published_darts_cells()
    {
        var space = new DecisionSpace(SearchSpaces.Darts, 4);
        Assert.Equal([2, 1, 7, 7, 1], Enumerable.Range(0, 5).Select(space.ChoiceCount));
        Assert.Equal([5, 4, 7, 7, 1], Enumerable.Range(15, 5).Select(space.ChoiceCount));
        // Per cell: each block picks two of its 2 + k predecessors in order, and two of 7 ops.
        Assert.Equal(new BigInteger(2 * 1 * 3 * 2 * 4 * 3 * 5 * 4) * BigInteger.Pow(49, 4), space.CellCount());
        foreach (var darts in new[] { PublishedCells.DartsV1, PublishedCells.DartsV2 })
            Assert.Equal(darts, space.Decode(space.Encode(darts)));
        var e = Assert.Throws<InvalidGenotypeException>(() => new DecisionSpace(SearchSpaces.Darts, 5).Encode(NasNetA.Genotype));
        Assert.Contains("$.normal.blocks[2].ops[1]: identity is not an op of the darts space", e.Errors);
        Assert.Contains("$.normal.blocks[1].inputs: the darts space takes two different states, not h[i-1] twice", e.Errors);
    }

    internal static Cell RandomCell(Random rng, int blocks) =>
        new(Enumerable.Range(0, blocks).Select(k => new Block(
            rng.Next(2 + k), rng.Next(2 + k),
            (Op)rng.Next(13), (Op)rng.Next(13), (Combine)rng.Next(2))));
}
