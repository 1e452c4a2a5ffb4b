using System.Text.Json;
using NasActors.Tests.Support;

namespace NasActors.Tests.Cli;

/// <summary>One finished run, read by every read command: what each prints, and its exit code and one line when asked wrongly.</summary>
public sealed class FinishedRun : IDisposable
{
    private readonly TempDir dir = new();

    public FinishedRun()
    {
        Path = System.IO.Path.Combine(dir.Path, "run");
        var r = NasProcess.Run("search", "--run", Path, "--trainer", "synthetic", "--children", "8", "--top-k", "2", "--strategy", "random", "--seed", "3", "--json");
        if (r.ExitCode != 0) throw new InvalidOperationException(r.Stderr);
    }

    public string Path { get; }

    public void Dispose() => dir.Dispose();
}

public class ReadCommandTests(FinishedRun run) : IClassFixture<FinishedRun>
{
    [Fact]
    public void Piped_tables_keep_one_record_per_line_and_hints_name_the_run_as_it_was_given()
    {
        // Piped (as here), a table has no terminal width to wrap at: each worker's row is one line.
        var ids = JsonDocument.Parse(NasProcess.Run("workers", "--run", run.Path, "--json").Stdout).RootElement
            .EnumerateArray().Select(w => w.GetProperty("worker").GetString()!).ToList();
        Assert.NotEmpty(ids);
        var table = NasProcess.Run("workers", "--run", run.Path);
        Assert.Equal(0, table.ExitCode);
        var lines = table.Stdout.Split('\n');
        Assert.All(ids, id => Assert.Single(lines, l => l.Contains(id, StringComparison.Ordinal) && l.Contains("healthy", StringComparison.Ordinal)));

        var top = NasProcess.Run("top", "--run", run.Path);
        Assert.Contains($"./nas export --run {run.Path} --rank 1", top.Stdout);
    }

    [Fact]
    public void Status_top_failures_and_export_agree_on_the_run()
    {
        var status = JsonDocument.Parse(NasProcess.Run("status", "--run", run.Path, "--json").Stdout).RootElement;
        Assert.Equal((8, 8, 0, true), (status.GetProperty("budget").GetInt32(), status.GetProperty("completed").GetInt32(),
            status.GetProperty("failed").GetInt32(), status.GetProperty("finished").GetBoolean()));
        var top = JsonDocument.Parse(NasProcess.Run("top", "--run", run.Path, "-k", "8", "--json").Stdout).RootElement;
        var accuracies = top.EnumerateArray().Select(e => e.GetProperty("accuracy").GetDouble()).ToList();
        Assert.Equal(8, accuracies.Count);
        Assert.Equal(accuracies.OrderDescending(), accuracies);
        Assert.Equal(status.GetProperty("best_accuracy").GetDouble(), accuracies[0]);
        Assert.Equal("[]", NasProcess.Run("failures", "--run", run.Path, "--json").Stdout.Trim());
        var exported = NasProcess.Run("export", "--run", run.Path, "--rank", "2");
        Assert.Equal(0, exported.ExitCode);
        Assert.Contains("\"normal\"", exported.Stdout);
        // Any child by its id: the second-ranked by id is the second by rank; the PyTorch module names it either way.
        var second = top[1].GetProperty("child_id").GetInt64();
        Assert.Equal(exported.Stdout, NasProcess.Run("export", "--run", run.Path, "--child", $"{second}").Stdout);
        var module = NasProcess.Run("export", "--run", run.Path, "--child", $"{second}", "--format", "pytorch", "--cells", "1", "--filters", "4");
        Assert.Contains($"child {second} (rank 2) of", module.Stdout);
        var last = top[7].GetProperty("child_id").GetInt64();
        var notFinal = NasProcess.Run("export", "--run", run.Path, "--child", $"{last}", "--format", "pytorch", "--weights", "--out", Path.GetTempPath());
        Assert.Equal(2, notFinal.ExitCode);
        Assert.Equal($"nas: error: --child: child {last} (rank 8) has no final training: only finalists' trained networks are kept (the run's top K)", notFinal.Stderr.Trim());
    }

    public static TheoryData<string[], int, string> Mistakes => new()
    {
        { ["status", "--run", "/nonexistent/run"], 2, "/nonexistent/run holds no nas run" },
        { ["top", "--run", "RUN", "-k", "0"], 2, "-k: must be at least 1" },
        { ["top", "--run", "RUN", "-k", "ten"], 2, "-k: 'ten' is not a whole number" },
        { ["export", "--run", "RUN", "--rank", "99"], 2, "the run has 8 trained children, no rank 99" },
        { ["export", "--run", "RUN", "--out", "/nonexistent/dir/best.json"], 1, "/nonexistent/dir/best.json" },
        { ["export", "--run", "RUN", "--child", "812"], 2, "--child: the run has no child 812 (its ids are " },
        { ["export", "--run", "RUN", "--child", "1", "--rank", "1"], 2, "--child: names the child --rank would: give one of them" },
        { ["failures"], 2, "Option '--run' is required" },
        { ["status", "--run", "RUN", "--colour"], 2, "Unrecognized command or argument '--colour'" },
    };

    [Theory]
    [MemberData(nameof(Mistakes))]
    public void A_mistake_exits_with_its_code_and_one_line(string[] args, int code, string message)
    {
        var r = NasProcess.Run(args.Select(a => a == "RUN" ? run.Path : a).ToArray());
        Assert.Equal(code, r.ExitCode);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, r.Stderr);
        Assert.StartsWith("nas: error: ", lines[0]);
        Assert.Contains(message, lines[0]);
    }
}
