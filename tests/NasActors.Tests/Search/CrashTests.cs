using NasActors.Evaluator;
using NasActors.Persistence;
using NasActors.Persistence.Events;
using NasActors.Tests.Cli;

namespace NasActors.Tests.Search;

public class CrashTests
{
    [Fact]
    public void A_search_killed_at_random_moments_resumes_with_nothing_lost_or_counted_twice()
    {
        const int budget = 200;
        const int topK = 3;
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        string[] args = ["search", "--run", run, "--trainer", "synthetic:100", "--children", $"{budget}", "--workers-per-device", "3",
            "--strategy", "ppo", "--top-k", $"{topK}", "--seed", "5", "--json"];

        var rng = new Random(2026);
        var kills = 0;
        for (var attempt = 0; attempt < 4; attempt++)
        {
            using var p = NasProcess.Start(args);
            var lifetime = TimeSpan.FromMilliseconds(rng.Next(2500, 5000));
            if (p.WaitForExit(lifetime)) break;
            p.Kill(); // SIGKILL: no shutdown of any kind
            p.WaitForExit();
            kills++;
        }
        Assert.True(kills >= 2, $"the search finished before it could be killed twice ({kills})");

        var final = NasProcess.Run(TimeSpan.FromMinutes(3), args);
        Assert.True(final.ExitCode == 0, final.Stderr);

        var events = SqliteRunFiles.ReadEvents(run);
        var sampled = events.OfType<ChildSampled>().Select(e => e.ChildId).ToList();
        Assert.Equal(Enumerable.Range(0, budget).Select(i => (long)i), sampled);

        // Exactly one outcome per child: nothing lost, nothing counted twice.
        var outcomes = events.OfType<ChildTrained>().Select(e => e.ChildId).Concat(events.OfType<ChildFailed>().Select(e => e.ChildId)).ToList();
        Assert.Equal(budget, outcomes.Count);
        Assert.Equal(budget, outcomes.Distinct().Count());

        // Policy versions continuous: one update per 20 results, numbered 1, 2, 3, ...
        var versions = events.OfType<PolicyUpdated>().Select(e => e.Version).ToList();
        Assert.Equal(Enumerable.Range(1, budget / 20), versions);
        Assert.All(events.OfType<ChildSampled>(), e => Assert.InRange(e.PolicyVersion, 0, budget / 20));

        // The evaluator followed the live stream across the crashes; its top-K (sent as the final
        // training request) equals the top-K recomputed from the journal.
        var board = new Leaderboard(topK);
        foreach (var e in events.TakeWhile(e => e is not SearchCompleted)) board.Apply(e);
        var queued = Assert.Single(events.OfType<FinalTrainingQueued>());
        Assert.Equal(board.Entries.Select(e => e.ChildId), queued.ChildIds);
        Assert.Equal(topK, events.OfType<FinalTrainingCompleted>().Select(e => e.ChildId).Distinct().Count());
        Assert.Single(events.OfType<SearchCompleted>());
    }
}
