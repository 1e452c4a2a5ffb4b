using System.Diagnostics;
using System.Text.Json;
using NasActors.Evaluator;
using NasActors.Persistence;
using NasActors.Search;
using NasActors.Search.Events;
using NasActors.Tests.Support;

namespace NasActors.Tests.Hosting;

/// <summary>
/// Kills that land mid-work: each one after the journal shows progress since the last start, at a
/// random moment inside the next child's training; one during final training; restarts that
/// recover from a snapshot. Then every child must have exactly one result, counted per child.
/// </summary>
public class CrashTests
{
    private const int Budget = 120;
    // Three rounds of final training on 3 workers: a window wide enough to kill inside, even on a loaded machine.
    private const int TopK = 9;

    private static string[] Args(string run, string config) => ["search", "--run", run, "--config", config, "--json"];

    private static string Config(TempDir dir) => dir.File("config.json", JsonSerializer.Serialize(new SearchSettings
    {
        Strategy = "ppo", Seed = 5, Budget = Budget, TopK = TopK, Trainer = "synthetic:150", WorkersPerDevice = 3, SnapshotEvery = 40,
    }, NasActors.Persistence.SettingsJson.Options));

    private static int Outcomes(IReadOnlyList<ISearchEvent> events) =>
        events.Count(e => e is ChildTrained or ChildFailed or FinalTrainingCompleted or FinalTrainingFailed);

    /// <summary>Polls the journal (read while the search writes it) until <paramref name="done"/> holds.</summary>
    private static IReadOnlyList<ISearchEvent> WaitFor(string run, Process p, Func<IReadOnlyList<ISearchEvent>, bool> done)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromMinutes(2))
        {
            var events = File.Exists(Path.Combine(run, "journal.db")) ? new FolderRunStore(run).ReadEvents() : [];
            if (done(events) || p.HasExited) return events;
            Thread.Sleep(20);
        }
        throw new TimeoutException("the search made no progress in 2 minutes");
    }

    [Fact]
    public void A_search_killed_mid_work_resumes_with_nothing_lost_or_counted_twice()
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        var config = Config(dir);
        var rng = new Random(2026);
        var kills = 0;
        var finalKill = false;
        var fromSnapshot = false;
        while (true)
        {
            fromSnapshot |= Directory.Exists(run) && new FolderRunStore(run).LatestSnapshotSequenceNr() is > 0;
            using var p = NasProcess.Start(Args(run, config));
            var stored = File.Exists(Path.Combine(run, "journal.db")) ? new FolderRunStore(run).ReadEvents() : [];
            var (before, progress) = (stored.Count, rng.Next(5, 25));
            // Search phase: kill after new results; once the search is complete, kill inside final
            // training (a final job handed out since this start).
            var events = WaitFor(run, p, e => Outcomes(e) > Outcomes(stored) + progress ||
                (e.OfType<FinalTrainingQueued>().Any() && e.Skip(before).OfType<ChildAssigned>().Any(a => a.Final)));
            if (p.HasExited) break;
            var inFinal = events.OfType<FinalTrainingQueued>().Any();
            if (inFinal && events.OfType<FinalTrainingCompleted>().Count() >= TopK) break;
            Thread.Sleep(rng.Next(0, 150)); // somewhere inside the next child's 150 ms of training
            p.Kill(); // SIGKILL: no shutdown of any kind
            p.WaitForExit();
            kills++;
            finalKill |= inFinal;
            if (finalKill && kills >= 3) break;
        }
        Assert.True(kills >= 3, $"only {kills} kills landed");
        Assert.True(finalKill, "no kill landed during final training");
        Assert.True(fromSnapshot, "no restart recovered from a snapshot");

        var final = NasProcess.Run(TimeSpan.FromMinutes(3), Args(run, config));
        Assert.True(final.ExitCode == 0, final.Stderr);
        AssertNothingLostOrCountedTwice(new FolderRunStore(run).ReadEvents());
    }

    [Fact]
    public void A_search_stopped_by_SIGTERM_mid_work_resumes_with_nothing_lost_or_counted_twice()
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        var config = Config(dir);
        var rng = new Random(7);
        for (var stop = 0; stop < 2; stop++)
        {
            using var p = NasProcess.Start(Args(run, config));
            var before = File.Exists(Path.Combine(run, "journal.db")) ? Outcomes(new FolderRunStore(run).ReadEvents()) : 0;
            WaitFor(run, p, e => Outcomes(e) > before + 10);
            Assert.False(p.HasExited);
            Thread.Sleep(rng.Next(0, 150));
            Process.Start("kill", ["-TERM", $"{p.Id}"])!.WaitForExit();
            Assert.True(p.WaitForExit(TimeSpan.FromSeconds(60)), "nas did not stop after SIGTERM");
            Assert.Equal(130, p.ExitCode);
        }
        var final = NasProcess.Run(TimeSpan.FromMinutes(3), Args(run, config));
        Assert.True(final.ExitCode == 0, final.Stderr);
        AssertNothingLostOrCountedTwice(new FolderRunStore(run).ReadEvents());
    }

    private static void AssertNothingLostOrCountedTwice(IReadOnlyList<ISearchEvent> events)
    {
        var sampled = events.OfType<ChildSampled>().Select(e => e.ChildId).ToList();
        Assert.Equal(Enumerable.Range(0, Budget).Select(i => (long)i), sampled);

        // Exactly one outcome per child, counted per child: a result recorded twice fails here.
        var perChild = events.Where(e => e is ChildTrained or ChildFailed)
            .GroupBy(e => e is ChildTrained t ? t.ChildId : ((ChildFailed)e).ChildId)
            .ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(Budget, perChild.Count);
        Assert.All(perChild, c => Assert.True(c.Value == 1, $"child {c.Key} has {c.Value} results"));
        var finals = events.OfType<FinalTrainingCompleted>().GroupBy(e => e.ChildId).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(TopK, finals.Count);
        Assert.All(finals, c => Assert.True(c.Value == 1, $"child {c.Key} was retrained {c.Value} times"));

        // Policy versions continuous: one update per 20 results, numbered 1, 2, 3, ...
        Assert.Equal(Enumerable.Range(1, Budget / 20), events.OfType<PolicyUpdated>().Select(e => e.Version));
        Assert.All(events.OfType<ChildSampled>(), e => Assert.InRange(e.PolicyVersion, 0, Budget / 20));

        // The evaluator followed the live stream across the crashes; its top-K (sent as the final
        // training request) equals the top-K recomputed from the journal.
        var board = new Leaderboard(TopK);
        foreach (var e in events.TakeWhile(e => e is not SearchCompleted)) board.Apply(e);
        var queued = Assert.Single(events.OfType<FinalTrainingQueued>());
        Assert.Equal(board.Entries.Select(e => e.ChildId), queued.ChildIds);
        Assert.Single(events.OfType<SearchCompleted>());
    }
}
