using System.Text.Json;
using NasActors.SearchSpace;

namespace NasActors.Tests.SearchSpace;

public class GenotypeJsonTests
{
    private const string Block = """{"inputs": [0, 1], "ops": ["sep_conv_3x3", "identity"], "combine": "add"}""";

    private static string Cell(string? blocks = null, string extra = "") =>
        $$"""{"blocks": [{{blocks ?? string.Join(", ", Enumerable.Repeat(Block, 5))}}]{{extra}}}""";

    private static string Doc(string? normal = null, string? reduction = null) =>
        $$"""{"normal": {{normal ?? Cell()}}, "reduction": {{reduction ?? Cell()}}}""";

    [Fact]
    public void NasNetA_is_written_exactly_as_published()
    {
        Assert.Equal(NasNetALiteral.Json.TrimEnd('\n'), GenotypeJson.Write(NasNetA.Genotype));
    }

    [Fact]
    public void Round_trip_through_both_forms_for_random_genotypes()
    {
        var rng = new Random(7);
        for (var i = 0; i < 500; i++)
        {
            var g = new Genotype(EncodingTests.RandomCell(rng, 5), EncodingTests.RandomCell(rng, 5).WithOutput(i % 2 == 0 ? [2, 6] : null));
            Assert.Equal(g, GenotypeJson.Read(GenotypeJson.Write(g)));
            Assert.Equal(g, GenotypeJson.Read(GenotypeJson.Write(g, indented: false)));
        }
    }

    [Fact]
    public void Converter_embeds_the_genotype_in_other_documents()
    {
        var options = new JsonSerializerOptions { Converters = { new GenotypeJsonConverter() } };
        var json = JsonSerializer.Serialize(new { id = 3, genotype = NasNetA.Genotype }, options);
        using var doc = JsonDocument.Parse(json);
        var back = doc.RootElement.GetProperty("genotype").Deserialize<Genotype>(options);
        Assert.Equal(NasNetA.Genotype, back);
    }

    [Fact]
    public void Output_is_optional()
    {
        var g = GenotypeJson.Read(Doc());
        Assert.Null(g.Normal.ExplicitOutput);
        Assert.Equal(Combine.Add, g.Normal.Blocks[0].Combine);
    }

    [Theory]
    [InlineData("{\"normal\": ", "$")]
    [InlineData("[1, 2]", "$")]
    public void Malformed_json_names_the_root(string json, string path)
    {
        var e = Assert.Throws<GenotypeFormatException>(() => GenotypeJson.Read(json));
        Assert.Equal(path, e.Path);
    }

    [Fact]
    public void Trailing_garbage_is_an_error()
    {
        var e = Assert.Throws<GenotypeFormatException>(() => GenotypeJson.Read(Doc() + " x"));
        Assert.Contains("not valid JSON", e.Message);
    }

    public static TheoryData<string, string, string> Malformed => new()
    {
        { Doc(normal: Cell(extra: ", \"colour\": 1")), "$.normal.colour", "unknown field" },
        { Doc().Replace("\"reduction\"", "\"reductoin\""), "$.reductoin", "unknown field" },
        { "{\"normal\": " + Cell() + "}", "$.reduction", "required field is missing" },
        { Doc(reduction: Cell(Block.Replace("\"identity\"", "\"sep_conv_9x9\""))), "$.reduction.blocks[0].ops[1]", "unknown op \"sep_conv_9x9\"" },
        { Doc(normal: Cell(Block.Replace("[0, 1]", "[0, \"1\"]"))), "$.normal.blocks[0].inputs[1]", "expected an integer, got the string \"1\"" },
        { Doc(normal: Cell(Block.Replace("[0, 1]", "[0, 1.5]"))), "$.normal.blocks[0].inputs[1]", "expected an integer" },
        { Doc(normal: Cell(Block.Replace("[0, 1]", "[0]"))), "$.normal.blocks[0].inputs", "expected exactly 2 items, got 1" },
        { Doc(normal: Cell(Block.Replace("\"add\"", "\"multiply\""))), "$.normal.blocks[0].combine", "unknown combine" },
        { Doc(normal: Cell(Block.Replace("\"add\"", "true"))), "$.normal.blocks[0].combine", "expected a string, got true" },
        { Doc(normal: "{\"blocks\": 3}"), "$.normal.blocks", "expected an array, got the number 3" },
        { Doc(normal: Cell(extra: ", \"output\": [1, \"x\"]")), "$.normal.output[1]", "expected an integer" },
        { Doc(normal: "[]"), "$.normal", "expected an object, got an array" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_documents_name_the_json_path(string json, string path, string problem)
    {
        var e = Assert.Throws<GenotypeFormatException>(() => GenotypeJson.Read(json));
        Assert.Equal(path, e.Path);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void ReadValid_applies_the_genotype_rules_and_reads_any_block_count()
    {
        var fourBlocks = Cell(string.Join(", ", Enumerable.Repeat(Block, 4)));
        var e = Assert.Throws<InvalidGenotypeException>(() => GenotypeJson.ReadValid(Doc(normal: fourBlocks)));
        Assert.Equal("$.reduction.blocks: has 5 blocks, the normal cell has 4 (both cells have the same number)", e.Message);
        Assert.Equal(4, GenotypeJson.ReadValid(Doc(fourBlocks, fourBlocks)).Normal.Blocks.Count);
        Assert.Single(GenotypeJson.ReadValid(Doc(Cell(Block), Cell(Block))).Reduction.Blocks);
    }
}
