using NasActors.Protocol.Messages;
using NasActors.Search;
using NasActors.Search.Events;
using NasActors.SearchSpace;

namespace NasActors.Tests.Search;

/// <summary>
/// The state refuses events that contradict the ones before it (a damaged or hand-edited journal),
/// naming what they contradict, and its own decide methods never make such an event.
/// </summary>
public class InvariantTests
{
    private static readonly int[] Decisions = new DecisionSpace().Encode(NasNetA.Genotype);

    private static readonly SearchSettings Settings = new() { Budget = 2, TopK = 1, Search = new SearchSettings().Search with { Epochs = 9 } };

    /// <summary>Child 0 trained on worker a; child 1 sampled and queued, never assigned.</summary>
    private static SearchState Started(SearchSettings? settings = null) => SearchState.Fold([
        new SearchStarted(settings ?? Settings, DateTimeOffset.UnixEpoch),
        new ChildSampled(0, NasNetA.Genotype, Decisions, -1, 0), new ChildAssigned(0, false, "a", 1),
        new ChildTrained(0, "a", 0.7, 0.5, 10, 20, 1),
        new ChildSampled(1, NasNetA.Genotype, Decisions, -1, 0),
    ]);

    public static TheoryData<string, ISearchEvent, string> Impossible => new()
    {
        { "a duplicated result", new ChildTrained(0, "a", 0.7, 0.5, 10, 20, 1), "child 0's search training already ended (trained)" },
        { "a failure after the result", new ChildFailed(0, "a", "exited"), "child 0's search training already ended (trained)" },
        { "a result for no child", new ChildTrained(7, "a", 0.7, 0.5, 10, 20, 1), "child 7 was never sampled" },
        { "a result before its assignment", new ChildTrained(1, "a", 0.7, 0.5, 10, 20, 1), "child 1's search training was never assigned to a worker" },
        { "a final result never queued", new FinalTrainingCompleted(0, "a", 0.7, 0.7, 0.5, 10, 20, 1), "child 0 was never queued for final training" },
        { "a child sampled twice", new ChildSampled(1, NasNetA.Genotype, Decisions, -1, 0), "child 1 was already sampled" },
        { "an assignment of a trained child", new ChildAssigned(0, false, "b", 2), "child 0's search training is trained, not waiting for a worker" },
        { "a requeue of a queued child", new ChildRequeued(1, false, "worker gone"), "child 1's search training is queued, not on a worker" },
        { "a second start", new SearchStarted(Settings, DateTimeOffset.UnixEpoch), "the search had already started" },
        { "a budget that shrinks", new BudgetIncreased(1), "the budget 1 is not above 2" },
        { "a timeout of no time", new TimeoutsChanged(3600, 0), "a timeout of 0 s is not at least 1 s" },
        { "final training before the search completed", new FinalTrainingQueued([0]), "the search has not completed" },
        { "a rung without early stopping", new ChildReachedRung(0, "a", 1, 0.5, false), "the run has no early stopping" },
    };

    [Theory]
    [MemberData(nameof(Impossible))]
    public void An_impossible_event_is_refused_naming_what_it_contradicts(string what, ISearchEvent evt, string why)
    {
        var s = Started();
        var e = Assert.Throws<ImpossibleEventException>(() => s.Evolve(evt));
        Assert.True(e.Message == why, $"{what}: {e.Message}");
        // The state it was offered to is a value: unchanged.
        Assert.Equal((1, 2), (s.Trained, s.Sampled));
    }

    [Fact]
    public void A_resume_with_other_time_limits_changes_them_for_the_trainings_sent_from_then_on_and_nothing_else()
    {
        var s = Started();
        Assert.Empty(s.Resume(Settings, DateTimeOffset.UnixEpoch));
        var longer = Settings.WithTimeouts(14_400, 345_600) with { Budget = 3 };
        var events = s.Resume(longer, DateTimeOffset.UnixEpoch);
        Assert.Equal([new TimeoutsChanged(14_400, 345_600), new BudgetIncreased(3)], events);
        var resumed = SearchState.Fold(events, s);
        Assert.Equal(14_400, resumed.TrainChild(1, false).Spec.TimeoutSeconds);
        Assert.Equal(Settings.Search with { TimeoutSeconds = 14_400 }, resumed.Settings!.Search);
        Assert.Equal(Settings.Final with { TimeoutSeconds = 345_600 }, resumed.Settings.Final);
        // What the search searches never changes with them.
        Assert.Null(Settings.Incompatibility(longer));
        Assert.Equal(Settings with { Budget = 3 }, resumed.Settings.WithTimeouts(Settings.Search.TimeoutSeconds, Settings.Final.TimeoutSeconds) with { Budget = 3 });
    }

    [Fact]
    public void A_start_with_an_unknown_rule_and_a_child_that_is_no_network_are_refused()
    {
        Assert.Equal("unknown early stopping \"median\"", Assert.Throws<ImpossibleEventException>(() =>
            SearchState.Empty.Evolve(new SearchStarted(Settings with { EarlyStop = new EarlyStopSettings { Kind = "median" } }, DateTimeOffset.UnixEpoch))).Message);
        var e = Assert.Throws<ImpossibleEventException>(() => Started().Evolve(new ChildSampled(2, NasNetA.Genotype, [1, 2, 3], -1, 0)));
        Assert.StartsWith("child 2's decisions are no network of the run's space (expected ", e.Message);
    }

    [Fact]
    public void A_coordinator_that_meets_an_impossible_event_says_the_journal_is_damaged_not_that_it_tries_again()
    {
        var line = NasActors.Persistence.JournalTrouble.Recovery("the coordinator", new ImpossibleEventException("child 7 was never sampled"),
            new ChildTrained(7, "a", 0.7, 0.5, 10, 20, 1), 41);
        Assert.Equal("the coordinator cannot recover: the run's journal is damaged, a ChildTrained contradicts the events before it (child 7 was never sampled); " +
                     "nothing is written, and trying again reads the same entry (nas status names it)", line);
    }

    [Fact]
    public void Nothing_but_a_start_can_come_first() =>
        Assert.Equal("the search has not started",
            Assert.Throws<ImpossibleEventException>(() => SearchState.Empty.Evolve(new ChildSampled(0, NasNetA.Genotype, Decisions, -1, 0))).Message);

    [Fact]
    public void A_rung_is_reached_once_and_never_after_the_end()
    {
        var s = Started(Settings with { EarlyStop = new EarlyStopSettings() }).Evolve(new ChildAssigned(1, false, "b", 1));
        s = s.Evolve(new ChildReachedRung(1, "b", 1, 0.5, false));
        Assert.Equal("child 1 already reached its rung at epoch 1",
            Assert.Throws<ImpossibleEventException>(() => s.Evolve(new ChildReachedRung(1, "b", 1, 0.6, false))).Message);
        Assert.Equal("child 0's search training already ended (trained)",
            Assert.Throws<ImpossibleEventException>(() => s.Evolve(new ChildReachedRung(0, "a", 1, 0.6, false))).Message);
    }

    [Fact]
    public void A_finalist_must_be_trained_and_queued_once()
    {
        var s = Started().Evolve(new ChildAssigned(1, false, "b", 1)).Evolve(new ChildFailed(1, "b", "exited"))
            .Evolve(new SearchCompleted(1, 1, 0.7, DateTimeOffset.UnixEpoch));
        Assert.Equal("child 1 is queued for final training but its search training is failed",
            Assert.Throws<ImpossibleEventException>(() => s.Evolve(new FinalTrainingQueued([1]))).Message);
        s = s.Evolve(new FinalTrainingQueued([0]));
        Assert.Equal("the final training was already queued", Assert.Throws<ImpossibleEventException>(() => s.Evolve(new FinalTrainingQueued([0]))).Message);
        Assert.Equal("the search had already completed",
            Assert.Throws<ImpossibleEventException>(() => s.Evolve(new SearchCompleted(1, 1, 0.7, DateTimeOffset.UnixEpoch))).Message);
    }

    [Fact]
    public void A_report_for_a_job_never_assigned_is_ignored_not_counted()
    {
        // A worker that names a queued child it was never given (a stale or confused worker).
        var s = Started();
        var decided = Assert.IsType<ResultIgnored>(Assert.Single(s.Report(new ChildResult(1, false, "b", 0.9, null, 0.1, 1, 1, 1))));
        Assert.Equal("never assigned", decided.Reason);
        Assert.Equal(SearchState.AlreadyRecorded, Assert.IsType<ResultIgnored>(Assert.Single(s.Report(new ChildResult(0, false, "a", 0.9, null, 0.1, 1, 1, 1)))).Reason);
        Assert.Equal(1, s.Evolve(decided).Trained);
    }
}
