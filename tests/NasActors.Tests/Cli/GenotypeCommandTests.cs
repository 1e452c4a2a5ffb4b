using NasActors.SearchSpace;
using NasActors.Tests.SearchSpace;
using NasActors.Tests.Support;

namespace NasActors.Tests.Cli;

public class GenotypeCommandTests
{
    [Fact]
    public void Show_json_prints_NasNetA_as_published()
    {
        var r = NasProcess.Run("show", "--genotype", "nasnet-a", "--format", "json");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(NasNetALiteral.Json, r.Stdout);
        Assert.Equal("", r.Stderr);
    }

    [Fact]
    public void Show_reads_a_file_and_prints_text_and_dot()
    {
        using var dir = new TempDir();
        var file = dir.File("g.json", NasNetALiteral.Json);
        var text = NasProcess.Run("show", "--genotype", file);
        Assert.Equal(0, text.ExitCode);
        Assert.Equal(NasNetALiteral.Text, text.Stdout);
        var dot = NasProcess.Run("show", "-g", file, "-f", "dot");
        Assert.StartsWith("digraph genotype", dot.Stdout);
    }

    [Fact]
    public void Validate_accepts_a_valid_file()
    {
        using var dir = new TempDir();
        var r = NasProcess.Run("validate", dir.File("g.json", GenotypeJson.Write(NasNetA.Genotype)));
        Assert.Equal((0, "valid: B = 5, in the nasnet space\n"), (r.ExitCode, r.Stdout));
    }

    [Fact]
    public void Published_cells_of_any_block_count_read_back_in_every_command_and_validate_names_their_space()
    {
        using var dir = new TempDir();
        foreach (var (name, expected) in new[]
        {
            ("darts-v2", "valid: B = 4, in the darts space"),
            ("amoebanet-a", "valid: B = 5, in no search space"),
            ("pnasnet-5", "valid: B = 5, in the nasnet space"),
        })
        {
            var json = NasProcess.Run("show", "--genotype", name, "--format", "json");
            Assert.Equal(0, json.ExitCode);
            var file = dir.File($"{name}.json", json.Stdout);
            var valid = NasProcess.Run("validate", file);
            Assert.Equal((0, expected + "\n"), (valid.ExitCode, valid.Stdout));
            Assert.Equal(0, NasProcess.Run("show", "--genotype", file).ExitCode);
            var model = NasProcess.Run("model", "--genotype", file, "--cells", "1", "--filters", "8", "--json");
            Assert.Equal(0, model.ExitCode);
        }
        var outside = NasProcess.Run("validate", System.IO.Path.Combine(dir.Path, "amoebanet-a.json"), "--space", "nasnet");
        Assert.Equal(2, outside.ExitCode);
        Assert.Contains("$.reduction.blocks[3].ops[1]: conv_1x7_7x1_bottleneck is not an op of the nasnet space", outside.Stderr);
    }

    public static TheoryData<string, string> Invalid => new()
    {
        { "{\"normal\": [", "not valid JSON" },
        { GenotypeJson.Write(NasNetA.Genotype).Replace("\"sep_conv_7x7\"", "\"sep_conv_11x11\""), "$.reduction.blocks[0].ops[1]: unknown op \"sep_conv_11x11\"" },
        { GenotypeJson.Write(NasNetA.Genotype).Replace("\"inputs\": [2, 3]", "\"inputs\": [2, 5]"), "$.reduction.blocks[3].inputs[1]: input index 5 is out of reach for block 3" },
        { GenotypeJson.Write(new Genotype(new Cell(NasNetA.Normal.Blocks.Take(4)), NasNetA.Reduction)), "$.reduction.blocks: has 5 blocks, the normal cell has 4" },
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
    public void Every_command_has_help_and_an_unknown_one_exits_2_in_one_line()
    {
        foreach (var command in new[] { "show", "validate", "model", "train", "search", "status", "top", "failures", "export", "bench", "bench train", "bench controller", "bench search", "bench dataset" })
        {
            var r = NasProcess.Run([.. command.Split(' '), "--help"]);
            Assert.True(r.ExitCode == 0, $"nas {command} --help: exit {r.ExitCode}");
            Assert.Contains($"Usage:\n  nas {command} ", r.Stdout.Replace("\r", ""));
        }
        var none = NasProcess.Run();
        Assert.Equal((2, "nas: error: no command given (nas --help lists them)"), (none.ExitCode, none.Stderr.Trim()));
        var unknown = NasProcess.Run("serch", "--run", "x");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Equal("nas: error: Unrecognized command or argument 'serch'. (see --help)", unknown.Stderr.Trim());
    }
}
