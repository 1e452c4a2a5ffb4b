using System.Diagnostics;
using System.Text.Json;
using NasActors.Persistence;
using NasActors.Search;
using NasActors.Search.Events;
using NasActors.Tests.Support;

namespace NasActors.Tests.Hosting;

/// <summary>
/// Early stopping with real nas processes: a search killed (SIGKILL) while children are being
/// judged makes, once resumed, exactly the decisions of an uninterrupted twin on the same seed:
/// the same rung tables, the same children stopped where they were, the same children trained.
/// </summary>
public class EarlyStopCrashTests
{
    private const int Budget = 36;

    private static string Config(TempDir dir) => dir.File("config.json", JsonSerializer.Serialize(new SearchSettings
    {
        // One worker: the order of reports, and so every decision, is fixed by the seed.
        Strategy = "random", Seed = 9, Budget = Budget, TopK = 0, Trainer = "synthetic-curves:40", WorkersPerDevice = 1,
        Search = new SearchSettings().Search with { Epochs = 9 },
        EarlyStop = new EarlyStopSettings { GraceEpochs = 1, ReductionFactor = 3, Brackets = 2 },
    }, SettingsJson.Options));

    private static string[] Args(string run, string config) => ["search", "--run", run, "--config", config, "--json"];

    private static SearchState Finish(string run, string config)
    {
        var r = NasProcess.Run(TimeSpan.FromMinutes(3), Args(run, config));
        Assert.True(r.ExitCode == 0, r.Stderr);
        return new FolderRunStore(run).ReadState();
    }

    [Fact]
    public void A_search_killed_while_children_are_judged_resumes_with_the_decisions_of_an_uninterrupted_twin()
    {
        using var dir = new TempDir();
        var config = Config(dir);
        var twin = Finish(Path.Combine(dir.Path, "twin"), config);
        Assert.True(twin.Stopped > Budget / 3, $"only {twin.Stopped} of {Budget} stopped");
        Assert.Equal(Budget, twin.Trained + twin.Stopped);

        var run = Path.Combine(dir.Path, "run");
        var rng = new Random(19);
        for (var kill = 0; kill < 3; kill++)
        {
            using var p = NasProcess.Start(Args(run, config));
            var before = File.Exists(Path.Combine(run, "journal.db")) ? new FolderRunStore(run).ReadEvents().OfType<ChildReachedRung>().Count() : 0;
            var target = before + rng.Next(2, 8);
            var clock = Stopwatch.StartNew();
            while (!p.HasExited && clock.Elapsed < TimeSpan.FromMinutes(2) &&
                   (!File.Exists(Path.Combine(run, "journal.db")) || new FolderRunStore(run).ReadEvents().OfType<ChildReachedRung>().Count() < target))
                Thread.Sleep(10);
            Assert.False(p.HasExited, "the search ended before the kill");
            Thread.Sleep(rng.Next(0, 80)); // inside the next epoch
            p.Kill();
            p.WaitForExit();
        }
        var resumed = Finish(run, config);

        Assert.Equal(twin.Rungs.Values.Keys, resumed.Rungs.Values.Keys);
        foreach (var key in twin.Rungs.Values.Keys) Assert.Equal(twin.Rungs.At(key), resumed.Rungs.At(key));
        Assert.Equal(SearchViews.Stopped(twin), SearchViews.Stopped(resumed));
        Assert.Equal(Ranking.Trained(twin).Select(c => (c.Id, c.Search.Outcome!.Accuracy)), Ranking.Trained(resumed).Select(c => (c.Id, c.Search.Outcome!.Accuracy)));
        Assert.Equal(SearchViews.EpochsTrained(twin), SearchViews.EpochsTrained(resumed));
        // Each child judged once per rung, whatever was repeated across the kills.
        var events = new FolderRunStore(run).ReadEvents();
        var rungs = events.OfType<ChildReachedRung>().Select(e => (e.ChildId, e.Epoch)).ToList();
        Assert.Equal(rungs.Distinct().Count(), rungs.Count);
        Assert.Equal(Budget, resumed.Trained + resumed.Stopped);

        // What nas status and nas top --all say, from the journal.
        var status = JsonDocument.Parse(NasProcess.Run("status", "--run", run, "--json").Stdout).RootElement;
        Assert.Equal(twin.Stopped, status.GetProperty("stopped").GetInt32());
        Assert.Equal(SearchViews.EpochsTrained(twin), status.GetProperty("epochs_trained").GetInt64());
        var all = JsonDocument.Parse(NasProcess.Run("top", "--run", run, "--all", "-k", "100", "--json").Stdout).RootElement.EnumerateArray().ToList();
        Assert.Equal(Budget, all.Count);
        Assert.Equal(twin.Stopped, all.Count(c => c.GetProperty("stopped_at").ValueKind == JsonValueKind.Number));
        var workers = JsonDocument.Parse(NasProcess.Run("workers", "--run", run, "--json").Stdout).RootElement.EnumerateArray().ToList();
        Assert.Equal(twin.Stopped, workers.Sum(w => w.GetProperty("stopped").GetInt32()));
    }
}
