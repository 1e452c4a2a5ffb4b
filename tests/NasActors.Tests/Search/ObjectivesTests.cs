using NasActors.Controller.Strategies;
using NasActors.Persistence.Snapshots;
using NasActors.Protocol.Messages;
using NasActors.Search;
using NasActors.Search.Events;
using NasActors.SearchSpace;

namespace NasActors.Tests.Search;

public class ObjectivesTests
{
    private static readonly int[] Decisions = new DecisionSpace().Encode(NasNetA.Genotype);

    private static SearchSettings Settings(string[]? objectives = null, Dictionary<string, double>? bounds = null, int budget = 2) =>
        new() { Budget = budget, TopK = 0, Objectives = objectives, Constraints = bounds };

    private static IReadOnlyList<string> Errors(SearchSettings s) => s.Errors(StrategyCatalog.Names);

    [Fact]
    public void Every_wrong_objective_or_bound_is_named_and_a_right_one_has_no_error()
    {
        Assert.Empty(Errors(Settings(["accuracy", "mult_adds", "latency_ms"], new() { ["mult_adds"] = 6e8, ["latency_ms"] = 15 })));
        Assert.Empty(Errors(Settings()));
        Assert.Contains("unknown objective \"flops\" (expected accuracy, params, mult_adds, latency_ms)", Errors(Settings(["accuracy", "flops"])));
        Assert.Contains("the objectives must include accuracy (the reward), got params", Errors(Settings(["params"])));
        Assert.Contains("objective \"params\" is listed twice", Errors(Settings(["accuracy", "params", "params"])));
        Assert.Contains("a bound on params, which is not searched (add it to the objectives: accuracy,mult_adds,params)",
            Errors(Settings(["accuracy", "mult_adds"], new() { ["params"] = 5e6 })));
        Assert.Contains(Errors(Settings(["accuracy", "mult_adds"], new() { ["accuracy"] = 0.5 })), e => e.StartsWith("a bound on \"accuracy\", which is no cost"));
        Assert.Contains("the bound on mult_adds must be a positive number, got -1", Errors(Settings(["accuracy", "mult_adds"], new() { ["mult_adds"] = -1 })));
        Assert.Contains("the bound on mult_adds must be a positive number, got NaN", Errors(Settings(["accuracy", "mult_adds"], new() { ["mult_adds"] = double.NaN })));
        Assert.Contains("latency batch must be between 1 and 1024, got 0", Errors(Settings(["accuracy", "latency_ms"]) with { LatencyBatch = 0 }));
        // Accuracy alone is the paper's search: no objective set, nothing asked of workers.
        Assert.Null(ObjectiveSet.For(Settings(["accuracy"])));
    }

    [Fact]
    public void Bounds_are_stored_in_name_order_whatever_order_they_came_in()
    {
        var a = Settings(["accuracy", "params", "mult_adds"], new() { ["params"] = 1, ["mult_adds"] = 2 });
        var b = Settings(["accuracy", "params", "mult_adds"], new() { ["mult_adds"] = 2, ["params"] = 1 });
        Assert.Null(a.Incompatibility(b));
        Assert.Equal(["mult_adds", "params"], a.Constraints!.Keys);
    }

    [Fact]
    public void Dominance_fronts_and_crowding_follow_nsga_ii()
    {
        Assert.True(Pareto.Dominates([0.1, 0.2], [0.1, 0.3]));
        Assert.False(Pareto.Dominates([0.1, 0.2], [0.1, 0.2]));
        Assert.False(Pareto.Dominates([0.1, 0.4], [0.2, 0.3]));
        IReadOnlyList<double>[] points = [[0.1, 0.9], [0.5, 0.5], [0.9, 0.1], [0.6, 0.6], [0.95, 0.95]];
        var fronts = Pareto.Fronts(points);
        Assert.Equal([0, 0, 0, 1, 2], fronts);
        var crowding = Pareto.Crowding(points, fronts);
        Assert.Equal(double.PositiveInfinity, crowding[0]);
        Assert.Equal(double.PositiveInfinity, crowding[2]);
        Assert.Equal(2.0, crowding[1], 9); // (0.9 - 0.1) / 0.8 in each objective
        Assert.Equal([0, 1, 2], Pareto.Front(points));
    }

    [Fact]
    public void Hypervolume_is_exact_in_two_and_three_objectives_and_ignores_dominated_and_outside_points()
    {
        Assert.Equal(0.55, Pareto.Hypervolume([[0.2, 0.5], [0.5, 0.2]]), 12);
        Assert.Equal(0.55, Pareto.Hypervolume([[0.2, 0.5], [0.5, 0.2], [0.6, 0.6], [1.2, 0.0]]), 12);
        Assert.Equal(0.125, Pareto.Hypervolume([[0.5, 0.5, 0.5]]), 12);
        // Two boxes of 0.128 sharing 0.4 x 0.4 x 0.4.
        Assert.Equal(0.192, Pareto.Hypervolume([[0.2, 0.6, 0.6], [0.6, 0.2, 0.6]]), 12);
        Assert.Equal(0, Pareto.Hypervolume([]));
    }

    [Fact]
    public void The_scalar_reward_is_mnasnets_soft_constraint_against_the_bound_or_the_first_cost()
    {
        var o = ObjectiveSet.For(Settings(["accuracy", "latency_ms", "params"], new() { ["latency_ms"] = 10 }))!;
        var reference = o.Reference(new ChildCosts(1000, 0, 4, "cpu"))!;
        Assert.Equal(new Dictionary<string, double> { ["latency_ms"] = 10, ["params"] = 2000 }, reference);
        var reward = (o with { Scalarization = ObjectiveSet.MnasNetReward }).Reward(0.8, new ChildCosts(2000, 0, 20, "cpu"), reference, 0);
        Assert.Equal(0.8 * Math.Pow(2, -0.07) * Math.Pow(2, -0.07), reward, 12);
        Assert.Equal([1 - 0.8, 2.0, 1.0], o.Point(0.8, new ChildCosts(2000, 0, 20, "cpu"), reference)!);
        // Latency never measured: no point.
        Assert.Null(o.Point(0.8, new ChildCosts(2000, 0), reference));
    }

    [Fact]
    public void Paregos_reward_weighs_each_child_by_its_own_weights_on_the_simplex_fixed_by_seed_and_id()
    {
        var o = ObjectiveSet.For(Settings(["accuracy", "mult_adds", "params"]) with { Seed = 7 })!;
        Assert.Equal(ObjectiveSet.ParegoReward, o.Scalarization);
        var w = o.Weights(3, 3);
        Assert.Equal(1, w.Sum(), 12);
        Assert.All(w, v => Assert.InRange(v, 0, 1));
        Assert.Equal(w, o.Weights(3, 3));
        Assert.NotEqual(w, o.Weights(4, 3));
        Assert.NotEqual(w, (o with { Seed = 8 }).Weights(3, 3));
        var reference = new Dictionary<string, double> { ["mult_adds"] = 1000, ["params"] = 100 };
        var costs = new ChildCosts(50, 500);
        // 1 - (max_i w_i p_i + 0.05 sum_i w_i p_i) of the point (0.2, 0.5, 0.5).
        double[] p = [0.2, 0.5, 0.5];
        var expected = 1 - (p.Select((v, i) => w[i] * v).Max() + 0.05 * p.Select((v, i) => w[i] * v).Sum());
        Assert.Equal(expected, o.Reward(0.8, costs, reference, 3), 12);
        // A better child (more accurate, cheaper) never earns less under the same weights.
        Assert.True(o.Reward(0.9, new ChildCosts(40, 400), reference, 3) > o.Reward(0.8, costs, reference, 3));
    }

    [Fact]
    public void A_new_search_of_several_objectives_stores_its_ppo_reward_and_a_wrong_one_is_named()
    {
        Assert.Equal(ObjectiveSet.DefaultReward, Settings(["accuracy", "params"]).WithDefaultsStored().PpoReward);
        Assert.Null(Settings().WithDefaultsStored().PpoReward);
        Assert.Equal("mnasnet", (Settings(["accuracy", "params"]) with { PpoReward = "mnasnet" }).WithDefaultsStored().PpoReward);
        Assert.Contains("ppo_reward must be mnasnet or parego, got \"sum\"", Errors(Settings(["accuracy", "params"]) with { PpoReward = "sum" }));
        Assert.Contains("ppo_reward needs objectives other than accuracy", Errors(Settings() with { PpoReward = "parego" }));
    }

    private static SearchState Started(SearchSettings settings, int children) =>
        SearchState.Fold([
            new SearchStarted(settings, DateTimeOffset.UnixEpoch),
            .. Enumerable.Range(0, children).SelectMany(id => new ISearchEvent[] { new ChildSampled(id, NasNetA.Genotype, Decisions, -1, 0), new ChildAssigned(id, false, "w", 1) }),
        ]);

    [Fact]
    public void A_refused_child_is_stored_with_its_costs_and_does_not_count_against_the_budget()
    {
        var s = Started(Settings(["accuracy", "mult_adds"], new() { ["mult_adds"] = 1000 }), 2);
        Assert.False(s.NeedsSampling);
        var events = s.Report(new ChildRefusal(0, "w", new ChildCosts(10, 5000), 0.01));
        var refused = Assert.IsType<ChildRefused>(Assert.Single(events));
        Assert.Equal("over its bounds: mult_adds 5000 > 1000", refused.Reason);
        s = s.Evolve(refused);
        Assert.Equal((1, 0, 0), (s.Refused, s.Trained, s.Failed));
        Assert.Equal(JobStatus.Refused, s.Children[0].Search.Status);
        Assert.Equal(5000, s.Children[0].Search.Outcome!.MultAdds);
        // One more child is sampled in its place; the search completes with two trained.
        Assert.True(s.NeedsSampling);
        Assert.False(s.AllResultsIn);
        // The reference point is the bound.
        Assert.Equal(1000, s.CostReference!["mult_adds"]);
        // Repeated: recorded once.
        Assert.IsType<ResultIgnored>(Assert.Single(s.Report(new ChildRefusal(0, "w", new ChildCosts(10, 5000), 0.01))));
        // A refusal within the bounds is no refusal, and a journal that says so is refused.
        Assert.IsType<ChildFailed>(Assert.Single(s.Report(new ChildRefusal(1, "w", new ChildCosts(10, 500), 0.01))));
        Assert.Contains("refused within the run's bounds", Assert.Throws<ImpossibleEventException>(() => s.Evolve(new ChildRefused(1, "w", new ChildCosts(10, 500), "x"))).Message);
        Assert.Equal(0, SearchViews.Summary(s, DateTimeOffset.UnixEpoch).Hypervolume);
    }

    [Fact]
    public void A_job_asks_for_latency_and_bounds_only_in_a_search_that_has_them()
    {
        var s = Started(Settings(["accuracy", "latency_ms"], new() { ["latency_ms"] = 15 }) with { LatencyBatch = 4 }, 1);
        Assert.Equal(4, s.TrainChild(0, false).Costs!.LatencyBatch);
        Assert.Equal(15, s.TrainChild(0, false).Costs!.Bounds!["latency_ms"]);
        Assert.Null(Started(Settings(), 1).TrainChild(0, false).Costs);
        var mult = Started(Settings(["accuracy", "mult_adds"]), 1).TrainChild(0, false).Costs!;
        Assert.Equal((null, null), (mult.LatencyBatch, mult.Bounds));
    }

    [Fact]
    public void Without_a_bound_the_reference_is_twice_the_first_childs_cost_and_the_front_and_hypervolume_follow()
    {
        var s = Started(Settings(["accuracy", "params"], budget: 3), 3);
        s = s.Evolve(new ChildTrained(0, "w", 0.5, 1, 100, 7, 1));
        Assert.Equal(200, s.CostReference!["params"]);
        s = s.Evolve(new ChildTrained(1, "w", 0.8, 1, 150, 7, 1));
        s = s.Evolve(new ChildTrained(2, "w", 0.4, 1, 120, 7, 1));
        Assert.Equal([1L, 0L], SearchViews.Front(s).Select(c => c.ChildId));
        // Points (0.5, 0.5) and (0.2, 0.75): 0.5 x 0.5 + 0.3 x 0.25.
        Assert.Equal(0.325, SearchViews.Hypervolume(s)!.Value, 12);
        var summary = SearchViews.Summary(s, DateTimeOffset.UnixEpoch);
        Assert.Equal(("accuracy,params", "accuracy 0, params 200"), (summary.Objectives, summary.Reference));
    }

    [Fact]
    public void A_snapshot_keeps_refused_children_latencies_and_the_reference_point()
    {
        var state = Protocol.SerializerTests.ObjectivesSnapshotSample;
        var format = NasActors.Persistence.JournalFormat.Default;
        var snapshot = SearchSnapshot.Of(state, []);
        var back = ((ISearchSnapshot)format.FromBinary(format.ToBinary(snapshot), format.Manifest(snapshot))).ToState();
        Assert.Equal((1, 1), (back.Refused, back.Trained));
        Assert.Equal(state.CostReference, back.CostReference);
        Assert.Equal(new ChildCosts(1000, 2000, 16.5, "cpu"), back.Children[0].Search.Outcome!.Costs);
        Assert.Equal("over its bounds: latency_ms 16.5 > 15", back.Children[0].Search.FailReason);
        Assert.Equal(new ChildCosts(1000, 2000, 3.25, "cpu"), back.Children[1].Search.Outcome!.Costs);
    }

    [Fact]
    public void Refused_children_after_twenty_with_nothing_else_say_so_in_one_line()
    {
        var s = Started(Settings(["accuracy", "mult_adds"], new() { ["mult_adds"] = 1000 }), SearchViews.RefusedAlone);
        for (var id = 0; id < SearchViews.RefusedAlone; id++)
        {
            Assert.Null(SearchViews.RefusalNote(s));
            s = s.Evolve(new ChildRefused(id, "w", new ChildCosts(10, 5000 + id), "over"));
        }
        Assert.Equal("the bounds refused every one of the first 20 children (smallest seen: mult_adds 5000 (bound 1000)): loosen them (in a new run), or search smaller networks (fewer cells or filters)",
            SearchViews.RefusalNote(s));
    }

    [Fact]
    public void Moasha_is_ashas_rule_on_one_objective_and_keeps_a_cheap_child_that_accuracy_alone_would_stop()
    {
        var rule = new AshaRule(new EarlyStopSettings { ReductionFactor = 3 }, 0, 9);
        var rng = new Random(4);
        for (var trial = 0; trial < 300; trial++)
        {
            var recorded = Enumerable.Range(0, rng.Next(0, 12)).Select(_ => Math.Round(rng.NextDouble(), 1)).ToList();
            var value = Math.Round(rng.NextDouble(), 1);
            Assert.Equal(rule.Continues(recorded, value), rule.Continues(recorded.Select(v => (IReadOnlyList<double>)[-v]).ToList(), [-value]));
        }
        // Five better by accuracy, all dearer: by accuracy the sixth stops (5 of 6 are better, the rung keeps 2); by both it is on the front.
        IReadOnlyList<double>[] dear = [[-0.9, 900], [-0.85, 800], [-0.8, 850], [-0.88, 950], [-0.82, 700]];
        Assert.False(rule.Continues(dear.Select(p => -p[0]).ToList(), 0.5));
        Assert.True(rule.Continues(dear, [-0.5, 100]));
        Assert.False(rule.Continues(dear, [-0.5, 990]));
    }

    [Fact]
    public void A_rung_of_a_search_of_several_objectives_decides_with_the_costs_its_report_carries_and_stores_them()
    {
        var settings = Settings(["accuracy", "mult_adds"], budget: 6) with { EarlyStop = new EarlyStopSettings(), Search = new SearchSettings().Search with { Epochs = 9 } };
        var s = Started(settings, 6);
        for (var id = 0; id < 5; id++)
        {
            var (decisions, stop) = s.ReachRung(new RungReached("w", id, 1, 0.8 + id / 100.0) { Costs = new ChildCosts(10, 900 + id) });
            Assert.False(stop);
            s = SearchState.Fold(decisions, s);
        }
        var (last, stopped) = s.ReachRung(new RungReached("w", 5, 1, 0.5) { Costs = new ChildCosts(10, 100) });
        Assert.False(stopped);
        var rung = Assert.Single(last);
        Assert.Equal(new ChildCosts(10, 100), rung.Costs);
        s = s.Evolve(rung);
        Assert.Equal(6, s.Rungs.PointsAt(new RungKey(0, 1)).Count);
        // Through a snapshot: the rung's costs and its table of points come back.
        var format = NasActors.Persistence.JournalFormat.Default;
        var snapshot = SearchSnapshot.Of(s, []);
        var back = ((ISearchSnapshot)format.FromBinary(format.ToBinary(snapshot), format.Manifest(snapshot))).ToState();
        Assert.Equal(new ChildCosts(10, 100), back.Children[5].Rungs![0].Costs);
        Assert.Equal(s.Rungs.PointsAt(new RungKey(0, 1)), back.Rungs.PointsAt(new RungKey(0, 1)));
    }

    [Fact]
    public void Bounds_that_refuse_everything_end_the_search_after_its_refusal_limit()
    {
        var s = Started(Settings(["accuracy", "params"], new() { ["params"] = 1 }, budget: 1), 0);
        var limit = SearchState.RefusalLimit(1);
        Assert.Equal(1000, limit);
        for (var id = 0; id < limit; id++)
        {
            Assert.True(s.NeedsSampling);
            Assert.Empty(s.Completion(DateTimeOffset.UnixEpoch));
            s = SearchState.Fold([new ChildSampled(id, NasNetA.Genotype, Decisions, -1, 0), new ChildAssigned(id, false, "w", 1),
                new ChildRefused(id, "w", new ChildCosts(100, 1), "over")], s);
        }
        Assert.True(s.RefusedEverything);
        Assert.False(s.NeedsSampling);
        var completed = Assert.IsType<SearchCompleted>(Assert.Single(s.Completion(DateTimeOffset.UnixEpoch)));
        Assert.Equal(0, completed.Trained);
        Assert.EndsWith("the search ended after 1000 refusals: loosen them (in a new run), or search smaller networks (fewer cells or filters)", SearchViews.RefusalNote(s));
    }

    [Fact]
    public void A_journal_whose_search_has_wrong_objectives_is_refused_naming_them_and_a_worker_device_mix_for_latency_is_an_error()
    {
        var wrong = new SearchStarted(Settings(["accuracy", "Params"]), DateTimeOffset.UnixEpoch);
        Assert.Contains("its objectives are wrong: unknown objective \"Params\"", Assert.Throws<ImpossibleEventException>(() => SearchState.Empty.Evolve(wrong)).Message);
        Assert.Contains("latency is measured on each worker's own device: give devices of one kind for it, not cpu,cuda:0",
            Errors(Settings(["accuracy", "latency_ms"]) with { Devices = ["cpu", "cuda:0"] }));
        Assert.DoesNotContain(Errors(Settings(["accuracy", "mult_adds"]) with { Devices = ["cpu", "cuda:0"] }), e => e.Contains("latency"));
        Assert.Contains("latency batch must be between 1 and 1024, got 100000", Errors(Settings(["accuracy", "latency_ms"]) with { LatencyBatch = 100_000 }));
    }

    private static StrategyConfig Evolution(int population) =>
        new() { Kind = "evolution", Seed = 3, Pareto = true, Evolution = new EvolutionSettings { Population = population, SampleSize = population } };

    [Fact]
    public void Pareto_evolution_takes_its_parent_from_the_first_front_and_never_a_refused_child()
    {
        using var e = new RegularizedEvolution(Evolution(3));
        var proposals = Enumerable.Range(0, 4).Select(id => e.Propose(id)).ToList();
        Assert.True(e.ObserveRefused(0));
        Assert.False(e.ObserveRefused(0));
        // Child 2 dominates 1 and 3; the reward says otherwise, and must not matter.
        Assert.True(e.Observe(1, 0.9, [0.5, 0.5]));
        Assert.True(e.Observe(2, 0.1, [0.3, 0.4]));
        Assert.True(e.Observe(3, 0.9, [0.6, 0.4]));
        Assert.Equal([1, 2, 3], e.Population.Select(m => Array.IndexOf(proposals.Select(p => p.Decisions).ToArray(), m.Decisions)));
        var child = e.Propose(4);
        Assert.Equal(1, child.Decisions.Zip(proposals[2].Decisions).Count(d => d.Item1 != d.Item2));

        // The points travel in the saved state.
        using var restored = new RegularizedEvolution(Evolution(3), e.SaveState());
        Assert.Equal(e.Population.Select(m => m.Point), restored.Population.Select(m => m.Point));
        Assert.Equal(restored.Propose(5).Decisions, e.Propose(5).Decisions);
    }

    [Fact]
    public void Ppo_learns_a_refused_child_as_a_failure()
    {
        using var ppo = new PpoStrategy(new StrategyConfig { Kind = "ppo", Seed = 1, FailureReward = 0, Ppo = new PpoSettings { Minibatch = 2 } });
        ppo.Propose(0);
        ppo.Propose(1);
        Assert.True(ppo.ObserveRefused(0));
        Assert.True(ppo.Observe(1, 0.9));
        // The minibatch of two is full: a refused child counts among the observations the policy learns from.
        Assert.Equal(1, ppo.PolicyVersion);
    }
}
