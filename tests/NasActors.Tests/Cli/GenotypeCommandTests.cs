using NasActors.SearchSpace;

namespace NasActors.Tests.Cli;

public class GenotypeCommandTests
{
    [Fact]
    public void Show_json_prints_NasNetA_as_published()
    {
        var r = NasProcess.Run("show", "--genotype", "nasnet-a", "--format", "json");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(GenotypeJson.Write(NasNetA.Genotype) + "\n", r.Stdout);
        Assert.Equal("", r.Stderr);
    }

    [Fact]
    public void Show_reads_a_file_and_prints_text_and_dot()
    {
        using var dir = new TempDir();
        var file = dir.File("g.json", GenotypeJson.Write(NasNetA.Genotype));
        var text = NasProcess.Run("show", "--genotype", file);
        Assert.Equal(0, text.ExitCode);
        Assert.Equal(GenotypeText.Format(NasNetA.Genotype), text.Stdout);
        var dot = NasProcess.Run("show", "-g", file, "-f", "dot");
        Assert.StartsWith("digraph genotype", dot.Stdout);
    }

    [Fact]
    public void Validate_accepts_a_valid_file()
    {
        using var dir = new TempDir();
        var r = NasProcess.Run("validate", dir.File("g.json", GenotypeJson.Write(NasNetA.Genotype)));
        Assert.Equal((0, "valid\n"), (r.ExitCode, r.Stdout));
    }

    public static TheoryData<string, string> Invalid => new()
    {
        { "{\"normal\": [", "not valid JSON" },
        { GenotypeJson.Write(NasNetA.Genotype).Replace("\"sep_conv_7x7\"", "\"sep_conv_11x11\""), "$.reduction.blocks[0].ops[1]: unknown op \"sep_conv_11x11\"" },
        { GenotypeJson.Write(NasNetA.Genotype).Replace("\"inputs\": [2, 3]", "\"inputs\": [2, 5]"), "reduction.blocks[3].inputs[1]: input index 5 is out of reach for block 3" },
        { GenotypeJson.Write(new Genotype(new Cell(NasNetA.Normal.Blocks.Take(4)), NasNetA.Reduction)), "normal: has 4 blocks, expected 5" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Validate_exits_2_naming_the_problem(string content, string problem)
    {
        using var dir = new TempDir();
        var r = NasProcess.Run("validate", dir.File("bad.json", content));
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.Contains(problem, r.Stderr);
    }

    [Fact]
    public void Validate_exits_1_for_an_unreadable_file()
    {
        var r = NasProcess.Run("validate", "/nonexistent/genotype.json");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("cannot read /nonexistent/genotype.json", r.Stderr);
    }

    [Fact]
    public void Every_command_has_help()
    {
        foreach (var command in new[] { "show", "validate" })
        {
            var r = NasProcess.Run(command, "--help");
            Assert.Equal(0, r.ExitCode);
            Assert.Contains("Usage:", r.Stdout);
        }
    }
}
