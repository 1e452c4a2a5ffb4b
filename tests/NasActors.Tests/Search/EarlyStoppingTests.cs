using NasActors.Protocol;
using NasActors.Protocol.Messages;
using NasActors.Persistence.Snapshots;
using NasActors.Search;
using NasActors.Search.Events;
using NasActors.SearchSpace;

namespace NasActors.Tests.Search;

public class EarlyStoppingTests
{
    private static readonly int[] Decisions = new DecisionSpace().Encode(NasNetA.Genotype);
    private static readonly EarlyStopSettings Asha = new() { GraceEpochs = 1, ReductionFactor = 3 };

    private static SearchSettings Settings(EarlyStopSettings? stop = null, int epochs = 9, int budget = 20) =>
        new() { Budget = budget, Seed = 5, EarlyStop = stop ?? Asha, Search = new SearchSettings().Search with { Epochs = epochs } };

    /// <summary>A started search with <paramref name="n"/> children, each running on its own worker ("w0", "w1", ...).</summary>
    private static SearchState Running(int n, SearchSettings? settings = null)
    {
        var s = SearchState.Empty.Evolve(new SearchStarted(settings ?? Settings(), DateTimeOffset.UnixEpoch));
        for (var i = 0; i < n; i++)
            s = s.Evolve(new ChildSampled(i, NasNetA.Genotype, Decisions, -1, 0)).Evolve(new ChildAssigned(i, false, $"w{i}", 1));
        return s;
    }

    /// <summary>Reports a rung, folds its decision; returns whether the child was stopped.</summary>
    private static bool Reach(ref SearchState s, long child, int epoch, double accuracy)
    {
        var (decisions, stop) = s.ReachRung(new RungReached($"w{child}", child, epoch, accuracy));
        s = decisions.Aggregate(s, (state, d) => state.Evolve(d));
        return stop;
    }

    /// <summary>A rung report's answer: how many decisions it would journal, and whether the child stops.</summary>
    private static (int Decisions, bool Stop) Asked(SearchState s, string worker, long child, int epoch, double accuracy) =>
        s.ReachRung(new RungReached(worker, child, epoch, accuracy)) is var (d, stop) ? (d.Count, stop) : default;

    [Theory]
    [InlineData(1, 3, 1, 27, new[] { 1, 3, 9 })]
    [InlineData(1, 3, 1, 28, new[] { 1, 3, 9, 27 })]
    [InlineData(2, 4, 1, 40, new[] { 2, 8, 32 })]
    [InlineData(1, 3, 3, 27, new[] { 1, 3, 9 })]
    public void Rungs_lie_at_grace_times_eta_to_the_k_below_the_budget(int grace, int eta, int brackets, int epochs, int[] rungs)
    {
        var stop = new EarlyStopSettings { GraceEpochs = grace, ReductionFactor = eta, Brackets = brackets };
        var rule = new AshaRule(stop, Seed: 0, epochs);
        Assert.Equal(rungs, rule.Rungs(0));
        Assert.Empty(stop.Errors(epochs));
        // Bracket s starts at grace·eta^s.
        Assert.Equal(rungs.Skip(1), rule.Rungs(1));
    }

    [Fact]
    public void Brackets_follow_from_the_seed_and_the_child_and_spread_evenly()
    {
        AshaRule Rule(long seed) => new(Asha with { Brackets = 3 }, seed, 9);
        var counts = Enumerable.Range(0, 3000).GroupBy(id => Rule(7).Bracket(id)).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal([0, 1, 2], counts.Keys.Order());
        Assert.All(counts.Values, c => Assert.InRange(c, 900, 1100));
        Assert.Equal(Enumerable.Range(0, 50).Select(id => Rule(7).Bracket(id)), Enumerable.Range(0, 50).Select(id => Rule(7).Bracket(id)));
        Assert.NotEqual(Enumerable.Range(0, 50).Select(id => Rule(7).Bracket(id)), Enumerable.Range(0, 50).Select(id => Rule(8).Bracket(id)));
    }

    [Theory]
    [InlineData(0, 3, 1, 9, "grace epochs must be at least 1, got 0")]
    [InlineData(1, 1, 1, 9, "reduction factor must be at least 2, got 1")]
    [InlineData(1, 3, 0, 9, "brackets must be at least 1, got 0")]
    [InlineData(9, 3, 1, 9, "grace epochs (9) must be below the children's epochs (9)")]
    [InlineData(1, 3, 4, 9, "bracket 3 has no rung below 9 epochs")]
    public void Bad_settings_are_named(int grace, int eta, int brackets, int epochs, string error)
    {
        var stop = new EarlyStopSettings { GraceEpochs = grace, ReductionFactor = eta, Brackets = brackets };
        Assert.Contains(stop.Errors(epochs), e => e.Contains(error));
        Assert.Contains(Settings(stop, epochs).Errors(["random"]), e => e.Contains(error));
    }

    [Fact]
    public void A_rung_keeps_its_top_third_once_it_holds_eta_values_and_ties_go_on()
    {
        IStoppingRule rule = StoppingRules.For(Settings())!;
        // Fewer than eta values: everyone goes on.
        Assert.True(rule.Continues([], 0.1));
        Assert.True(rule.Continues([0.9], 0.1));
        // Three values: only the best goes on.
        Assert.False(rule.Continues([0.9, 0.5], 0.6));
        Assert.True(rule.Continues([0.5, 0.6], 0.9));
        Assert.True(rule.Continues([0.5, 0.9], 0.9));
        // Six values: the best two.
        Assert.True(rule.Continues([0.1, 0.2, 0.3, 0.4, 0.9], 0.5));
        Assert.False(rule.Continues([0.1, 0.2, 0.3, 0.6, 0.9], 0.5));
    }

    [Fact]
    public void Decisions_are_journaled_with_their_value_and_a_stopped_child_is_an_outcome()
    {
        var s = Running(4, Settings(budget: 4));
        Assert.False(Reach(ref s, 0, 1, 0.50));
        Assert.False(Reach(ref s, 1, 1, 0.60));
        Assert.True(Reach(ref s, 2, 1, 0.40));
        Assert.Equal(JobStatus.Stopped, s.Children[2].Search.Status);
        Assert.Equal(new RungResult(1, 0.40, true), s.Children[2].StoppedAt);
        Assert.Equal(1, s.Stopped);
        Assert.Equal([0.40, 0.50, 0.60], s.Rungs.At(new RungKey(0, 1)));
        Assert.DoesNotContain(2L, s.SearchJobs.Running.Keys);
        // The same report again (a resend, a restarted coordinator) is answered as decided, and nothing new is journaled.
        Assert.Equal((0, true), Asked(s, "w2", 2, 1, 0.40));
        Assert.Equal((0, false), Asked(s, "w0", 0, 1, 0.50));
        // An epoch that is no rung, or a worker that no longer has the child.
        Assert.Equal((0, false), Asked(s, "w0", 0, 2, 0.1));
        Assert.Equal((0, true), Asked(s, "w9", 3, 1, 0.9));
        // A stopped child's result is not counted; the search completes when the others are in.
        Assert.IsType<ResultIgnored>(Assert.Single(s.Report(new ChildResult(2, false, "w2", 0.9, null, 0, 0, 0, 1))));
        s = s.Evolve(new ChildTrained(0, "w0", 0.7, 0, 0, 0, 1)).Evolve(new ChildTrained(1, "w1", 0.8, 0, 0, 0, 1));
        Assert.Empty(s.Completion(DateTimeOffset.UnixEpoch));
        Assert.True(Reach(ref s, 3, 1, 0.1));
        Assert.Single(s.Completion(DateTimeOffset.UnixEpoch));
        Assert.Equal([1L, 0L], Ranking.Trained(s).Select(c => c.Id));
        Assert.Equal(9 + 9 + 1 + 1, SearchViews.EpochsTrained(s));
        Assert.Equal([2L, 3L], SearchViews.Stopped(s).Select(c => c.ChildId));
    }

    [Fact]
    public void Without_early_stopping_nothing_is_judged()
    {
        var s = Running(3, new SearchSettings { Budget = 3 });
        Assert.Null(s.RungEpochs(0));
        Assert.Equal((0, false), Asked(s, "w0", 0, 1, 0.1));
    }

    [Fact]
    public void A_snapshot_keeps_the_rung_tables_and_the_stopped_children()
    {
        var s = Running(6, Settings(Asha with { Brackets = 2 }));
        var rng = new Random(3);
        for (var i = 0; i < 6; i++)
        {
            if (Reach(ref s, i, 1, rng.NextDouble())) continue;
            Reach(ref s, i, 3, rng.NextDouble());
        }
        var restored = ((ISearchSnapshot)NasActors.Persistence.JournalFormat.Default.FromBinary(NasActors.Persistence.JournalFormat.Default.ToBinary(SearchSnapshot.Of(s, [1])), "snapshot.search-state.v3")).ToState();
        Assert.Equal(s.Stopped, restored.Stopped);
        Assert.Equal(s.Rungs.Values.Keys, restored.Rungs.Values.Keys);
        foreach (var key in s.Rungs.Values.Keys) Assert.Equal(s.Rungs.At(key), restored.Rungs.At(key));
        Assert.Equal(s.Children.Values.Select(c => c.Search.Status), restored.Children.Values.Select(c => c.Search.Status));
        Assert.Equal(s.Children.Values.Select(c => c.Rungs), restored.Children.Values.Select(c => c.Rungs), new RungsEquality());
    }

    [Fact]
    public void A_child_requeued_while_its_worker_still_trains_it_goes_on_unjudged()
    {
        // Its result would still count (a claim that came after the grace period): no reason to stop it.
        var s = Running(2, Settings(budget: 2)).Evolve(new ChildRequeued(1, false, "not claimed by a live worker after the coordinator restarted"));
        Assert.Equal((0, false), Asked(s, "w1", 1, 1, 0.1));
    }

    [Fact]
    public void A_result_decides_the_rungs_whose_answer_never_came_before_it_is_stored()
    {
        // Rung 1 (epochs 1, 3 of 9) holds 0.5, 0.6, 0.7: child 3's 0.4 there would have been stopped.
        var s = Running(4, Settings(budget: 4));
        Assert.False(Reach(ref s, 0, 1, 0.5));
        Assert.False(Reach(ref s, 1, 1, 0.6));
        Assert.False(Reach(ref s, 2, 1, 0.7));
        // Its rung report was lost (the coordinator moved); it trained on, and its result brings the value.
        var events = s.Report(new ChildResult(3, false, "w3", 0.9, null, 0.1, 10, 20, 5) { Rungs = [new(1, 0.4), new(3, 0.8)] });
        var stop = Assert.IsType<ChildReachedRung>(Assert.Single(events));
        Assert.Equal(new ChildReachedRung(3, "w3", 1, 0.4, Stopped: true, EpochsTrained: 9), stop);
        s = events.Aggregate(s, (state, e) => state.Evolve(e));
        // Stopped there, not ranked; its nine epochs are counted, and its later rung is not a value of anyone's table.
        Assert.Equal(JobStatus.Stopped, s.Children[3].Search.Status);
        Assert.Equal(0, s.Trained);
        Assert.DoesNotContain(3L, Ranking.Trained(s).Select(c => c.Id));
        Assert.Equal(9, SearchViews.EpochsTrained(s));
        Assert.Equal([0.4, 0.5, 0.6, 0.7], s.Rungs.At(new RungKey(0, 1)));
        Assert.Empty(s.Rungs.At(new RungKey(0, 3)));
        // Its report again is one ignored result.
        Assert.IsType<ResultIgnored>(Assert.Single(s.Report(new ChildResult(3, false, "w3", 0.9, null, 0.1, 10, 20, 5) { Rungs = [new(1, 0.4)] })));
    }

    [Fact]
    public void A_later_rung_reported_before_an_earlier_one_was_answered_decides_the_earlier_first()
    {
        // Rung 1 holds 0.5, 0.6, 0.7; child 3's rung-1 report was lost in an outage, and its rung-3 report (0.9) comes first.
        var s = Running(4, Settings(budget: 4));
        Assert.False(Reach(ref s, 0, 1, 0.5));
        Assert.False(Reach(ref s, 1, 1, 0.6));
        Assert.False(Reach(ref s, 2, 1, 0.7));
        var (decisions, stop) = s.ReachRung(new RungReached("w3", 3, 3, 0.9) { Rungs = [new(1, 0.4), new(3, 0.9)] });
        // Stopped at rung 1, as an uninterrupted search would have stopped it, after the three epochs it trained.
        Assert.True(stop);
        Assert.Equal([new ChildReachedRung(3, "w3", 1, 0.4, Stopped: true, EpochsTrained: 3)], decisions);
        // A child that goes on at rung 1 has both decided, in order.
        s = Running(2, Settings(budget: 2));
        (decisions, stop) = s.ReachRung(new RungReached("w0", 0, 3, 0.9) { Rungs = [new(1, 0.4), new(3, 0.9)] });
        Assert.False(stop);
        Assert.Equal([1, 3], decisions.Select(d => d.Epoch));
    }

    [Fact]
    public void A_result_whose_late_rungs_go_on_is_trained_after_them_and_decided_rungs_are_not_decided_again()
    {
        var s = Running(2, Settings(budget: 2));
        Assert.False(Reach(ref s, 0, 1, 0.5));
        // Rung 1 was decided; rung 3's answer was lost: only rung 3 is decided now, then the result.
        var events = s.Report(new ChildResult(0, false, "w0", 0.9, null, 0.1, 10, 20, 5) { Rungs = [new(1, 0.5), new(3, 0.8)] });
        Assert.Equal([typeof(ChildReachedRung), typeof(ChildTrained)], events.Select(e => e.GetType()));
        Assert.Equal(new ChildReachedRung(0, "w0", 3, 0.8, Stopped: false), events[0]);
        s = events.Aggregate(s, (state, e) => state.Evolve(e));
        Assert.Equal([0.8], s.Rungs.At(new RungKey(0, 3)));
        // A failure brings its values too: child 1 failed after rung 3, both rungs decided before the failure.
        events = s.Report(new ChildFailure(1, false, "w1", "NaN loss") { Rungs = [new(1, 0.6), new(3, 0.7)] });
        Assert.Equal([typeof(ChildReachedRung), typeof(ChildReachedRung), typeof(ChildFailed)], events.Select(e => e.GetType()));
        // A value that is no number (a trainer that measured none) leaves its rung undecided.
        var t = Running(1, Settings(budget: 1));
        Assert.IsType<ChildTrained>(Assert.Single(t.Report(new ChildResult(0, false, "w0", 0.9, null, 0.1, 10, 20, 5) { Rungs = [new(1, double.NaN)] })));
    }

    private sealed class RungsEquality : IEqualityComparer<System.Collections.Immutable.ImmutableList<RungResult>?>
    {
        public bool Equals(System.Collections.Immutable.ImmutableList<RungResult>? a, System.Collections.Immutable.ImmutableList<RungResult>? b) =>
            a is null ? b is null : b is not null && a.SequenceEqual(b);

        public int GetHashCode(System.Collections.Immutable.ImmutableList<RungResult>? obj) => obj?.Count ?? -1;
    }
}
