using NasActors.Persistence;
using NasActors.Persistence.Events;
using NasActors.Protocol;
using NasActors.SearchSpace;

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
        Assert.Equal([1L], s.Queue);
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
        var restored = ((SearchSnapshot)WireFormat.Default.FromBinary(WireFormat.Default.ToBinary(new SearchSnapshot(s, [1, 2, 3])), "snapshot.search-state")).State;
        Assert.Equal((s.Sampled, s.Trained, s.Failed, s.IgnoredResults, s.NextChildId, s.Budget),
            (restored.Sampled, restored.Trained, restored.Failed, restored.IgnoredResults, restored.NextChildId, restored.Budget));
        Assert.Equal(s.Queue, restored.Queue);
        Assert.Equal(s.RunningJobs, restored.RunningJobs);
        // Events after the snapshot go on from there.
        restored = restored.Evolve(new ChildTrained(2, "a", 0.9, 0.1, 1, 1, 1));
        Assert.Empty(restored.RunningJobs);
        Assert.Equal(2, restored.Trained);
    }

    [Fact]
    public void Something_that_is_not_a_search_event_is_refused() =>
        Assert.Throws<ArgumentException>(() => SearchState.Fold(["not an event"]));
}
