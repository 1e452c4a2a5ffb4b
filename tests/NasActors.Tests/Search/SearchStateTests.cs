using NasActors.Protocol;
using NasActors.Protocol.Messages;
using NasActors.Persistence;
using NasActors.Persistence.Snapshots;
using NasActors.Search;
using NasActors.Search.Events;
using NasActors.SearchSpace;
using NasActors.Tests.Support;

namespace NasActors.Tests.Search;

public class SearchStateTests
{
    private static readonly int[] Decisions = new DecisionSpace().Encode(NasNetA.Genotype);

    private static SearchState Fold(params ISearchEvent[] events) => SearchState.Fold(events);

    private static ISearchEvent[] History() =>
    [
        new SearchStarted(new SearchSettings { Budget = 3, TopK = 1 }, DateTimeOffset.UnixEpoch),
        new ChildSampled(0, NasNetA.Genotype, Decisions, -1, 0), new ChildAssigned(0, false, "a", 1),
        new ChildSampled(1, NasNetA.Genotype, Decisions, -1, 0), new ChildAssigned(1, false, "b", 1),
        new ChildSampled(2, NasNetA.Genotype, Decisions, -1, 0), new ChildAssigned(2, false, "a", 1),
        new ChildTrained(0, "a", 0.7, 0.5, 10, 20, 1),
        new ChildRequeued(1, false, "worker gone"),
        new ResultIgnored(0, false, "a", "result already recorded"),
    ];

    [Fact]
    public void Events_fold_into_counts_queues_and_running_jobs()
    {
        var s = Fold(History());
        Assert.Equal((3, 1, 0, 1), (s.Sampled, s.Trained, s.Failed, s.IgnoredResults));
        Assert.Equal([1L], s.SearchJobs.Waiting);
        Assert.Equal([new RunningJob(2, false, "a")], s.RunningJobs);
        Assert.Equal([new RunningJob(2, false, "a")], s.RunningOn("a"));
        Assert.Empty(s.RunningOn("b"));
        Assert.True(s.AwaitsResult(1, false));
        Assert.False(s.AwaitsResult(0, false));
        Assert.False(s.AllResultsIn);

        s = s.Evolve(new ChildAssigned(1, false, "c", 2));
        s = s.Evolve(new ChildFailed(1, "c", "exited with code 1"));
        s = s.Evolve(new ChildTrained(2, "a", 0.8, 0.4, 10, 20, 1));
        s = s.Evolve(new SearchCompleted(2, 1, 0.8, DateTimeOffset.UnixEpoch));
        Assert.True(s.AllResultsIn);
        Assert.Equal(0.8, s.BestAccuracy);
        Assert.False(s.Finished);

        s = s.Evolve(new FinalTrainingQueued([2]));
        s = s.Evolve(new ChildAssigned(2, true, "b", 1));
        Assert.Equal([new RunningJob(2, true, "b")], s.RunningJobs);
        s = s.Evolve(new FinalTrainingCompleted(2, "b", 0.85, 0.84, 0.3, 10, 20, 5));
        Assert.Empty(s.RunningJobs);
        Assert.True(s.Finished);
    }

    [Fact]
    public void A_snapshot_restores_the_same_state()
    {
        var s = Fold(History());
        var restored = ((ISearchSnapshot)NasActors.Persistence.JournalFormat.Default.FromBinary(NasActors.Persistence.JournalFormat.Default.ToBinary(SearchSnapshot.Of(s, [1, 2, 3])), "snapshot.search-state.v3")).ToState();
        Assert.Equal((s.Sampled, s.Trained, s.Failed, s.IgnoredResults, s.NextChildId, s.Budget),
            (restored.Sampled, restored.Trained, restored.Failed, restored.IgnoredResults, restored.NextChildId, restored.Budget));
        Assert.Equal(s.SearchJobs.Waiting, restored.SearchJobs.Waiting);
        Assert.Equal(s.RunningJobs, restored.RunningJobs);
        // Events after the snapshot go on from there.
        restored = restored.Evolve(new ChildTrained(2, "a", 0.9, 0.1, 1, 1, 1));
        Assert.Empty(restored.RunningJobs);
        Assert.Equal(2, restored.Trained);
    }

    [Fact]
    public void Something_that_is_not_a_search_event_is_refused() =>
        Assert.Throws<InvalidOperationException>(() => SearchState.Fold(["not an event"]));
}

/// <summary>
/// Properties of the search state over random histories made by its own decide methods (every
/// event type, repeated and late reports, requeues, budget growth, empty and non-empty final lists).
/// </summary>
public class SearchStatePropertyTests
{
    private static readonly int[] Decisions = new DecisionSpace().Encode(NasNetA.Genotype);
    private static readonly string[] Workers = ["a", "b", "c"];

    /// <summary>A random but valid history, as a coordinator with flaky workers would write it.</summary>
    private static List<ISearchEvent> History(int seed)
    {
        var rng = new Random(seed);
        var state = SearchState.Empty;
        var events = new List<ISearchEvent>();
        void Add(IEnumerable<ISearchEvent> more)
        {
            foreach (var e in more)
            {
                events.Add(e);
                state = state.Evolve(e);
            }
        }
        // Even seeds stop children early (rungs at epochs 1 and 3 of 9).
        var earlyStop = seed % 2 == 0 ? new EarlyStopSettings() : null;
        // Every third seed searches accuracy against mult-adds under a bound of 15 (children measure 0..30).
        var bounded = seed % 3 == 0;
        Add([new SearchStarted(new SearchSettings
            {
                Budget = rng.Next(1, 12), TopK = rng.Next(0, 4), EarlyStop = earlyStop, Search = new SearchSettings().Search with { Epochs = 9 },
                Objectives = bounded ? ["accuracy", "mult_adds"] : null, Constraints = bounded ? new Dictionary<string, double> { ["mult_adds"] = 15 } : null,
            },
            DateTimeOffset.UnixEpoch)]);
        for (var step = 0; step < 160; step++)
        {
            var worker = Workers[rng.Next(Workers.Length)];
            switch (rng.Next(10))
            {
                case 0 or 1 or 2:
                    Add(state.Requeue(worker, "worker idle while assigned"));
                    if (state.NextJob(worker, id => new ChildSampled(id, NasNetA.Genotype, Decisions, -rng.NextDouble(), state.PolicyVersion)) is { } job)
                        Add(job.Events);
                    break;
                case 3 or 4:
                    // A report for a running job, a done one, or one that never existed.
                    var running = state.RunningJobs.ToList();
                    // Mostly from the worker that runs it; sometimes from another (a worker that lost it).
                    var (id, final, by) = running.Count > 0 && rng.Next(4) > 0 && running[rng.Next(running.Count)] is var j
                        ? (j.ChildId, j.Final, rng.Next(5) == 0 ? worker : j.WorkerId)
                        : (rng.Next(-1, state.Sampled + 2), rng.Next(2) == 0, worker);
                    if (earlyStop is not null && rng.Next(3) == 0)
                    {
                        // A rung (or another epoch) reached, by its worker or one that lost the child.
                        Add(state.ReachRung(new RungReached(by, id, rng.Next(1, 5), rng.NextDouble()) { Costs = bounded ? new ChildCosts(10, rng.Next(0, 16)) : null }).Decisions);
                        Add(state.Completion(DateTimeOffset.UnixEpoch.AddSeconds(step)));
                        break;
                    }
                    WorkerReport report = rng.Next(3) == 0
                        ? new ChildFailure(id, final, by, "exited with code 1")
                        : bounded && !final && rng.Next(2) == 0 ? new ChildRefusal(id, by, new ChildCosts(10, rng.Next(0, 31)), 0.01)
                        : new ChildResult(id, final, by, rng.NextDouble(), final ? rng.NextDouble() : null, 1, 10, bounded ? rng.Next(1, 16) : 20, 1);
                    Add(state.Report(report));
                    Add(state.Completion(DateTimeOffset.UnixEpoch.AddSeconds(step)));
                    break;
                case 5:
                    Add(state.Requeue(worker, "worker gone"));
                    break;
                case 6:
                    Add([new PolicyUpdated(state.PolicyVersion + 1, state.Trained + state.Failed)]);
                    break;
                case 7:
                    Add(state.QueueFinal(state.Children.Keys.OrderBy(_ => rng.Next()).Take(rng.Next(0, 4))));
                    break;
                case 8:
                    Add(rng.Next(4) == 0 ? state.MarkUnhealthy(worker, "cpu: dense convolutions compute wrong") : state.MarkHealthy(worker));
                    break;
                default:
                    // A resume: a grown budget, other time limits, or neither.
                    if (rng.Next(4) == 0)
                        Add(state.Resume(state.Settings!.WithTimeouts(rng.Next(1, 3) * 3600, 7200) with { Budget = state.Budget + rng.Next(0, 4) }, DateTimeOffset.UnixEpoch.AddSeconds(step)));
                    else Add(state.RequeueUnclaimed(new HashSet<string>(), "coordinator restarted"));
                    break;
            }
        }
        return events;
    }

    private static string Json(SearchState s) => System.Text.Json.JsonSerializer.Serialize(s, WireFormat.Json);

    private static SearchState ThroughSnapshot(SearchState s) =>
        ((ISearchSnapshot)NasActors.Persistence.JournalFormat.Default.FromBinary(NasActors.Persistence.JournalFormat.Default.ToBinary(SearchSnapshot.Of(s, [7])), "snapshot.search-state.v3")).ToState();

    // The second stored shape (children as JSON objects), as runs before 2026-12-07 hold it.
    private static SearchState ThroughSecondShape(SearchState s) => s.Settings?.Objectives is not null ? s : // (no run of that time had objectives)
        ((ISearchSnapshot)NasActors.Persistence.JournalFormat.Default.FromBinary(NasActors.Persistence.JournalFormat.Default.ToBinary(SearchSnapshotV2.Of(s, [7])), "snapshot.search-state.v2")).ToState();

    // The first stored shape, as old runs hold it, reads into the same state.
    private static SearchState ThroughFirstShape(SearchState s) => s.Settings?.EarlyStop is not null || s.Settings?.Objectives is not null ? s : // (no old run stopped children early)
        ((ISearchSnapshot)NasActors.Persistence.JournalFormat.Default.FromBinary(NasActors.Persistence.JournalFormat.Default.ToBinary(SearchSnapshotV1.Of(s, [7])), "snapshot.search-state")).ToState();

    public static TheoryData<int> Seeds => new() { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Recovery_from_a_snapshot_at_any_point_equals_the_fold_of_all_events(int seed)
    {
        var events = History(seed);
        var whole = Json(SearchState.Fold(events));
        for (var cut = 0; cut <= events.Count; cut++)
        {
            var at = SearchState.Fold(events.Take(cut));
            Assert.Equal(whole, Json(SearchState.Fold(events.Skip(cut), ThroughSnapshot(at))));
            Assert.Equal(whole, Json(SearchState.Fold(events.Skip(cut), ThroughSecondShape(at))));
            Assert.Equal(whole, Json(SearchState.Fold(events.Skip(cut), ThroughFirstShape(at))));
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Each_child_has_at_most_one_result_and_the_counts_equal_the_events(int seed)
    {
        var events = History(seed);
        var s = SearchState.Fold(events);
        var stops = events.OfType<ChildReachedRung>().Where(e => e.Stopped).Select(e => e.ChildId).ToList();
        var outcomes = events.OfType<ChildTrained>().Select(e => e.ChildId).Concat(events.OfType<ChildFailed>().Select(e => e.ChildId)).Concat(stops)
            .Concat(events.OfType<ChildRefused>().Select(e => e.ChildId)).ToList();
        Assert.Equal(outcomes.Distinct().Count(), outcomes.Count);
        var finals = events.OfType<FinalTrainingCompleted>().Select(e => e.ChildId).Concat(events.OfType<FinalTrainingFailed>().Select(e => e.ChildId)).ToList();
        Assert.Equal(finals.Distinct().Count(), finals.Count);
        Assert.Equal(events.OfType<ChildTrained>().Count(), s.Trained);
        Assert.Equal(events.OfType<ChildFailed>().Count(), s.Failed);
        Assert.Equal(stops.Count, s.Stopped);
        Assert.Equal(events.OfType<ChildReachedRung>().Count(), s.Rungs.Count);
        Assert.Equal(events.OfType<ResultIgnored>().Count(), s.IgnoredResults);
        Assert.Equal(events.OfType<ChildSampled>().Count(), s.Sampled);
        Assert.Equal(events.OfType<ChildRefused>().Count(), s.Refused);
        // Refused children do not count against the budget.
        Assert.True(s.Sampled - s.Refused <= s.Budget);
        Assert.Equal(events.OfType<ChildTrained>().Select(e => (double?)e.Accuracy).DefaultIfEmpty().Max(), s.BestAccuracy);
        // A worker found unhealthy holds no job, is given none and counts no result until it recovers.
        var folded = SearchState.Empty;
        void HoldsNothing() => Assert.All(folded.Unhealthy.Keys, w => Assert.Empty(folded.RunningOn(w)));
        foreach (var e in events)
        {
            // (Between a worker's WorkerUnhealthy and the requeues written with it, its jobs are still on it.)
            if (e is not ChildRequeued) HoldsNothing();
            var by = e switch
            {
                ChildAssigned a => a.WorkerId, ChildTrained t => t.WorkerId, ChildFailed f => f.WorkerId, ChildRefused r => r.WorkerId,
                FinalTrainingCompleted c => c.WorkerId, FinalTrainingFailed f => f.WorkerId, _ => null,
            };
            if (by is not null) Assert.Null(folded.UnhealthyReason(by));
            folded = folded.Evolve(e);
        }
        HoldsNothing();
        // The indexes agree with the children's jobs.
        foreach (var c in s.Children.Values)
        {
            Assert.Equal(c.Search.Status == JobStatus.Queued, s.SearchJobs.Waiting.Contains(c.Id));
            Assert.Equal(c.Search.Status == JobStatus.Running, s.SearchJobs.Running.ContainsKey(c.Id));
            Assert.Equal(c.Final?.Status == JobStatus.Queued, s.FinalJobs.Waiting.Contains(c.Id));
            Assert.Equal(c.Final?.Status == JobStatus.Running, s.FinalJobs.Running.ContainsKey(c.Id));
        }
    }

    [Fact]
    public void The_histories_cover_every_event_type()
    {
        var seen = Enumerable.Range(1, 24).SelectMany(History).Select(e => e.GetType()).ToHashSet();
        var all = typeof(ISearchEvent).Assembly.GetTypes().Where(t => typeof(ISearchEvent).IsAssignableFrom(t) && !t.IsInterface).ToHashSet();
        Assert.Empty(all.Except(seen).Select(t => t.Name));
        var queued = Enumerable.Range(1, 12).SelectMany(History).OfType<FinalTrainingQueued>().ToList();
        Assert.Contains(queued, q => q.ChildIds.Count == 0);
        Assert.Contains(queued, q => q.ChildIds.Count > 0);
    }
}

/// <summary>The same properties on a real run's journal, written by the real nas process.</summary>
public class RealJournalSnapshotTests
{
    [Fact]
    public void A_snapshot_at_any_point_of_a_real_journal_recovers_the_same_state_and_the_same_next_dispatch()
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        var r = NasProcess.Run("search", "--run", run, "--trainer", "synthetic:5", "--children", "30", "--workers-per-device", "3",
            "--top-k", "2", "--strategy", "random", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var events = new FolderRunStore(run).ReadEvents();
        Assert.True(events.Count > 90);

        static string Json(SearchState s) => System.Text.Json.JsonSerializer.Serialize(s, WireFormat.Json);
        static SearchState ThroughSnapshot(SearchState s) =>
            ((ISearchSnapshot)NasActors.Persistence.JournalFormat.Default.FromBinary(NasActors.Persistence.JournalFormat.Default.ToBinary(SearchSnapshot.Of(s, [])), "snapshot.search-state.v3")).ToState();
        static string? Next(SearchState s) =>
            s.Settings is null ? null
            : s.NextJob("probe", id => new ChildSampled(id, NasNetA.Genotype, [], 0, s.PolicyVersion)) is { } job
                ? string.Join(";", job.Events.Select(e => System.Text.Json.JsonSerializer.Serialize((object)e, WireFormat.Json)))
                : "none";

        var whole = SearchState.Fold(events);
        var state = SearchState.Empty;
        for (var point = 0; point <= events.Count; point++)
        {
            // The journal as it stood at this point: a snapshot there restores the same state and dispatch...
            var restored = ThroughSnapshot(state);
            Assert.Equal(Json(state), Json(restored));
            Assert.Equal(Next(state), Next(restored));
            // ...and the events after it lead to the state of the whole journal.
            Assert.Equal(Json(whole), Json(SearchState.Fold(events.Skip(point), restored)));
            if (point < events.Count) state = state.Evolve(events[point]);
        }
    }
}
