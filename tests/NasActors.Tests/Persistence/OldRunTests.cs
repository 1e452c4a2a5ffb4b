using System.Text.Json;
using System.Text.Json.Nodes;
using NasActors.Persistence;
using NasActors.Persistence.Snapshots;
using NasActors.Search;
using NasActors.Tests.Support;

namespace NasActors.Tests.Persistence;

/// <summary>
/// A run folder written before the stored contract had shapes of its own (Fixtures/run-v1: PPO,
/// an exec trainer, a snapshot every 7 events, the top 2 retrained; its snapshot is the first
/// shape, job statuses as numbers) reads as it did then, and its search grows.
/// </summary>
public class OldRunTests
{
    private static readonly string Fixture = Path.Combine(NasProcess.RepositoryRoot, "tests", "NasActors.Tests", "Fixtures", "run-v1");

    private static string Copy(TempDir dir)
    {
        var run = Path.Combine(dir.Path, "run");
        Directory.CreateDirectory(run);
        foreach (var file in Directory.GetFiles(Path.Combine(Fixture, "run")))
            File.Copy(file, Path.Combine(run, Path.GetFileName(file)));
        return run;
    }

    private static string Json(SearchState s) => JsonSerializer.Serialize(s, NasActors.Protocol.WireFormat.Json);

    private static JsonNode Without(string json, string key)
    {
        var node = JsonNode.Parse(json)!;
        node.AsObject().Remove(key);
        return node;
    }

    [Fact]
    public void Status_and_top_read_as_they_did_when_it_was_written()
    {
        using var dir = new TempDir();
        var run = Copy(dir);
        var stored = new FolderRunStore(run).Read();
        Assert.IsType<SearchSnapshotV1>(stored.Snapshot);
        // Its snapshot (the first shape) and the events after it give the state all its events give.
        Assert.True(new FolderRunStore(run).LatestSnapshotSequenceNr() is > 0);
        Assert.Equal(Json(SearchState.Fold(new FolderRunStore(run).ReadEvents())), Json(stored.State));

        var status = NasProcess.Run("status", "--run", run, "--json");
        Assert.True(status.ExitCode == 0, status.Stderr);
        // Every key it had, as it was (elapsed_s is the clock's, not the run's); keys added since may follow.
        var now = Without(status.Stdout, "elapsed_s").AsObject();
        foreach (var (key, value) in Without(File.ReadAllText(Path.Combine(Fixture, "status.json")), "elapsed_s").AsObject())
            Assert.True(JsonNode.DeepEquals(value, now[key]), $"{key}: {status.Stdout}");

        var top = NasProcess.Run("top", "--run", run, "--json");
        Assert.True(top.ExitCode == 0, top.Stderr);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(File.ReadAllText(Path.Combine(Fixture, "top.json"))), JsonNode.Parse(top.Stdout)), top.Stdout);
    }

    [Fact]
    public void Its_search_grows_its_budget_and_writes_snapshots_of_the_current_shape()
    {
        using var dir = new TempDir();
        var run = Copy(dir);
        var r = NasProcess.Run("search", "--run", run, "--children", "20", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var status = JsonDocument.Parse(r.Stdout).RootElement;
        Assert.Equal(20, status.GetProperty("completed").GetInt32());
        Assert.True(status.GetProperty("finished").GetBoolean());

        var stored = new FolderRunStore(run).Read();
        Assert.IsType<SearchSnapshot>(stored.Snapshot);
        Assert.Equal(20, stored.State.Trained);
        // The new shape, read back with the events after it, is the state all events give.
        Assert.Equal(Json(SearchState.Fold(new FolderRunStore(run).ReadEvents())), Json(stored.State));
    }
}
