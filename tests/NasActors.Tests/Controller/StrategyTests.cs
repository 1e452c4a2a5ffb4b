using NasActors.Controller.Strategies;
using NasActors.Protocol;
using NasActors.SearchSpace;
using NasActors.Tests.Support;

namespace NasActors.Tests.Controller;

[Collection(TorchCollection.Name)]
public class StrategyTests
{
    /// <summary>PPO as used in tests: the paper's algorithm with a learning rate suited to a 600-child budget.</summary>
    private static StrategyConfig Config(string kind, long seed) => new()
    {
        Kind = kind,
        Seed = seed,
        Ppo = new PpoSettings { LearningRate = 0.02, Epochs = 2 },
        Evolution = new EvolutionSettings { Population = 50, SampleSize = 10 },
    };

    [Fact]
    public void PPO_and_evolution_beat_random_search_on_a_synthetic_objective_with_equal_budgets()
    {
        const int budget = 600;
        long[] seeds = [1, 2, 3];
        double Score(string kind) => seeds.Average(seed =>
        {
            using var s = StrategyCatalog.Create(Config(kind, seed));
            return SyntheticObjectives.TopMean(SyntheticObjectives.Run(s, budget));
        });
        var random = Score("random");
        var ppo = Score("ppo");
        var evolution = Score("evolution");
        Assert.True(ppo > random + 0.1, $"ppo {ppo:F3} vs random {random:F3}");
        Assert.True(evolution > random + 0.1, $"evolution {evolution:F3} vs random {random:F3}");
    }

    public static TheoryData<string> Kinds => new() { "ppo", "random", "evolution" };

    [Fact]
    public void Every_strategy_searches_the_darts_space_and_PPO_and_evolution_learn_there()
    {
        double Score(string kind) => new long[] { 1, 2 }.Average(seed =>
        {
            using var s = StrategyCatalog.Create(Config(kind, seed) with { Space = "darts", Blocks = 4 });
            return SyntheticObjectives.TopMean(SyntheticObjectives.Run(s, 400, objective: g =>
            {
                Assert.Empty(SearchSpaces.Darts.Errors(g));
                Assert.Equal(4, g.Reduction.Blocks.Count);
                return SyntheticObjectives.PreferredOps(g);
            }));
        });
        var random = Score("random");
        Assert.True(Score("ppo") > random + 0.1, $"ppo vs random {random:F3}");
        Assert.True(Score("evolution") > random + 0.1, $"evolution vs random {random:F3}");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void A_restored_strategy_continues_exactly_as_the_original(string kind)
    {
        var config = Config(kind, 42) with { Ppo = Config(kind, 42).Ppo with { Minibatch = 10 }, Evolution = new() { Population = 20, SampleSize = 5 } };
        using var original = StrategyCatalog.Create(config);
        SyntheticObjectives.Run(original, 45, inFlight: 1);
        // Leave proposals pending (and, for PPO, a part-filled minibatch and part-used sample batch) at the save.
        var pendingIds = new[] { 1000L, 1001, 1002 };
        foreach (var id in pendingIds) original.Propose(id);
        original.Observe(1000, 0.5);
        var saved = original.SaveState();

        using var restored = StrategyCatalog.Create(config, saved);
        Assert.Equal(original.PolicyVersion, restored.PolicyVersion);
        Assert.Equal(original.PendingCount, restored.PendingCount);
        foreach (var s in new[] { original, restored })
        {
            s.Observe(1001, 0.25);
            s.Observe(1002, null);
        }
        var a = Trace(original);
        var b = Trace(restored);
        Assert.Equal(a, b);
        Assert.Equal(original.SaveState(), restored.SaveState());
    }

    [Fact]
    public async Task A_deferred_PPO_update_computed_on_another_thread_equals_the_inline_one()
    {
        using var inline = new PpoStrategy(Config("ppo", 21));
        using var deferred = new PpoStrategy(Config("ppo", 21)) { DeferUpdates = true };
        for (long id = 0; id < 60; id++)
        {
            var a = inline.Propose(id);
            var b = deferred.Propose(id);
            Assert.Equal(a.Decisions, b.Decisions);
            var reward = SyntheticObjectives.PreferredOps(a.Genotype);
            inline.Observe(id, reward);
            deferred.Observe(id, reward);
            if (deferred.HasPendingUpdate)
            {
                Assert.Equal(deferred.PolicyVersion + 1, inline.PolicyVersion);
                var compute = deferred.PrepareUpdate();
                deferred.ApplyUpdate(await Task.Run(compute));
            }
            Assert.Equal(inline.PolicyVersion, deferred.PolicyVersion);
        }
        Assert.Equal(3, deferred.PolicyVersion);
        Assert.Equal(inline.SaveState(), deferred.SaveState());
    }

    [Fact]
    public void A_PPO_update_computed_but_not_installed_leaves_no_trace_in_the_next()
    {
        // Updates run on a kept copy of the policy: one whose result was dropped (a coordinator
        // that moved on) must not be what the next update starts from.
        using var inline = new PpoStrategy(Config("ppo", 5));
        using var deferred = new PpoStrategy(Config("ppo", 5)) { DeferUpdates = true };
        for (long id = 0; id < 60; id++)
        {
            var p = inline.Propose(id);
            Assert.Equal(p.Decisions, deferred.Propose(id).Decisions);
            var reward = SyntheticObjectives.PreferredOps(p.Genotype);
            inline.Observe(id, reward);
            deferred.Observe(id, reward);
            if (!deferred.HasPendingUpdate) continue;
            var dropped = deferred.PrepareUpdate();
            dropped();
            Assert.Throws<InvalidOperationException>(() => dropped());
            deferred.ApplyUpdate(deferred.PrepareUpdate()());
        }
        Assert.Equal(3, deferred.PolicyVersion);
        Assert.Equal(inline.SaveState(), deferred.SaveState());
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void The_same_seed_gives_the_same_proposals(string kind)
    {
        using var a = StrategyCatalog.Create(Config(kind, 11));
        using var b = StrategyCatalog.Create(Config(kind, 11));
        Assert.Equal(Trace(a), Trace(b));
    }

    private static List<string> Trace(ISearchStrategy s)
    {
        var trace = new List<string>();
        for (long id = 2000; id < 2060; id++)
        {
            var p = s.Propose(id);
            trace.Add($"{string.Join(",", p.Decisions)}|{p.LogProbability:R}|{p.PolicyVersion}");
            s.Observe(id, SyntheticObjectives.PreferredOps(p.Genotype));
        }
        return trace;
    }

    [Theory]
    [InlineData(5, 0.1)]
    [InlineData(3, 3.0)]
    [InlineData(1, 3.0)]
    public void PPO_sampling_never_proposes_an_invalid_genotype(int blocks, double initRange)
    {
        // A wide init range makes the softmax peaky, which would expose any leak past the mask.
        using var s = new PpoStrategy(new StrategyConfig { Blocks = blocks, Seed = 9, Ppo = new PpoSettings { InitRange = initRange, SampleBatch = 50 } });
        var space = new DecisionSpace(blocks);
        var seenInputs = new HashSet<(int Step, int Value)>();
        for (long id = 0; id < 1500; id++)
        {
            var p = s.Propose(id);
            Assert.Empty(GenotypeValidator.Errors(p.Genotype, blocks));
            Assert.Equal(p.Decisions, space.Encode(p.Genotype));
            Assert.True(p.LogProbability <= 0);
            for (var step = 0; step < space.Length; step++)
                if (space.Kind(step) is DecisionKind.InputA or DecisionKind.InputB)
                    seenInputs.Add((step, p.Decisions[step]));
        }
        // With the paper's init the policy is near uniform, so every valid input index shows up.
        if (initRange < 1)
            Assert.Equal(Enumerable.Range(0, space.Length).Where(t => space.Kind(t) is DecisionKind.InputA or DecisionKind.InputB).Sum(space.ChoiceCount), seenInputs.Count);
    }

    [Fact]
    public void PPO_accepts_stale_proposals_from_older_policy_versions()
    {
        using var s = new PpoStrategy(Config("ppo", 5));
        var early = Enumerable.Range(0, 70).Select(i => s.Propose(i)).ToList();
        Assert.All(early, p => Assert.Equal(0, p.PolicyVersion));
        // 60 results make three updates; the last ten version-0 proposals arrive after them.
        foreach (var p in early.Take(60)) Assert.True(s.Observe(p.ChildId, SyntheticObjectives.PreferredOps(p.Genotype)));
        Assert.Equal(3, s.PolicyVersion);
        var fresh = s.Propose(100);
        Assert.Equal(3, fresh.PolicyVersion);
        foreach (var p in early.Skip(60)) Assert.True(s.Observe(p.ChildId, SyntheticObjectives.PreferredOps(p.Genotype)));
        Assert.True(s.Observe(100, 0.5));
        Assert.Equal(11, s.BufferedObservations);
        // The minibatch mixing version-0 and version-3 proposals makes the next update.
        for (long id = 101; id < 110; id++) s.Observe(s.Propose(id).ChildId, 0.1);
        Assert.Equal(4, s.PolicyVersion);
        Assert.Equal(0, s.BufferedObservations);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Failures_count_with_the_failure_reward_and_repeated_or_unknown_results_change_nothing(string kind)
    {
        using var s = StrategyCatalog.Create(Config(kind, 3) with { FailureReward = -1 });
        var p = s.Propose(7);
        Assert.False(s.Observe(8, 0.9));
        Assert.True(s.Observe(7, null));
        var state = s.SaveState();
        Assert.False(s.Observe(7, 0.9));
        Assert.Equal(state, s.SaveState());
        if (s is RegularizedEvolution evolution)
            Assert.Equal(-1, Assert.Single(evolution.Population).Reward);
        if (s is PpoStrategy ppo)
            Assert.Equal(-1, ppo.Baseline);
        Assert.Throws<InvalidOperationException>(() => { s.Propose(9); s.Propose(9); });
    }

    [Fact]
    public void Evolution_mutates_exactly_one_input_or_op()
    {
        using var s = new RegularizedEvolution(Config("evolution", 4));
        var space = new DecisionSpace();
        var rng = new Random(4);
        for (var i = 0; i < 500; i++)
        {
            var parent = space.Sample(rng);
            var child = s.Mutate(parent);
            var changed = Enumerable.Range(0, space.Length).Where(t => parent[t] != child[t]).ToList();
            var step = Assert.Single(changed);
            Assert.Contains(space.Kind(step), new[] { DecisionKind.InputA, DecisionKind.InputB, DecisionKind.OpA, DecisionKind.OpB });
            Assert.Empty(GenotypeValidator.Errors(space.Decode(child)));
        }
    }

    [Fact]
    public void Corrupt_or_foreign_states_and_bad_settings_are_refused()
    {
        using var random = new RandomSearch(Config("random", 1));
        var state = random.SaveState();
        Assert.Contains("random strategy, not ppo", Assert.Throws<InvalidDataException>(() => new PpoStrategy(Config("ppo", 1), state)).Message);
        Assert.Contains("corrupt", Assert.Throws<InvalidDataException>(() => new RandomSearch(Config("random", 1), state[..^3])).Message);
        Assert.Contains("B = 5, not 4", Assert.Throws<InvalidDataException>(() => new RandomSearch(Config("random", 1) with { Blocks = 4 }, state)).Message);
        var e = Assert.Throws<InputException>(() => StrategyCatalog.Create(new StrategyConfig { Kind = "annealing", Evolution = new() { SampleSize = 500 } }));
        Assert.Contains("unknown strategy \"annealing\"", e.Message);
        Assert.Contains("evolution sample size", e.Message);
    }

    [Fact]
    public void A_new_searchs_PPO_learns_blocks_that_interact_faster_than_the_papers()
    {
        double Score(NasActors.Search.SearchSettings settings) => new long[] { 1, 2 }.Average(seed =>
        {
            using var s = StrategyCatalog.Create(StrategyCatalog.ConfigFor(settings with { Strategy = "ppo", Seed = seed }));
            return SyntheticObjectives.TopMean(SyntheticObjectives.Run(s, 600, objective: NasActors.Bench.Objectives.ChainedBlocks));
        });
        var paper = Score(new NasActors.Search.SearchSettings());
        var tuned = Score(NasActors.Search.SearchSettings.NewSearch);
        Assert.True(tuned > paper + 0.1, $"new search's PPO {tuned:F3}, the paper's {paper:F3}");
    }

    [Theory]
    [InlineData(null, StoppedChildren.RungAccuracy)]
    [InlineData("rung-accuracy", StoppedChildren.RungAccuracy)]
    [InlineData("ignore", StoppedChildren.Ignore)]
    public void What_stopped_children_teach_is_a_stored_setting_of_the_run(string? stored, StoppedChildren expected)
    {
        var json = stored is null ? """{"early_stop": {"kind": "asha"}}""" : $$$"""{"early_stop": {"kind": "asha", "stopped_children": "{{{stored}}}"}}""";
        var settings = NasActors.Persistence.SettingsJson.Parse(json, "settings.json");
        Assert.Equal(expected, StrategyCatalog.ConfigFor(settings).Stopped);
        // Written out with the run: a later default does not change how a stored run learns.
        Assert.Contains($"\"stopped_children\":\"{stored ?? "rung-accuracy"}\"", System.Text.Json.JsonSerializer.Serialize(settings, NasActors.Persistence.SettingsJson.Options).Replace(" ", "").Replace("\n", ""));
    }

    [Theory]
    [InlineData("evolution", StoppedChildren.Ignore, 0)]
    [InlineData("evolution", StoppedChildren.RungAccuracy, 1)]
    [InlineData("ppo", StoppedChildren.Ignore, 0)]
    [InlineData("ppo", StoppedChildren.RungAccuracy, 1)]
    public void A_stopped_child_leaves_the_pending_proposals_and_teaches_what_its_setting_says(string kind, StoppedChildren stopped, int learned)
    {
        using var s = StrategyCatalog.Create(Config(kind, 3) with { Stopped = stopped });
        var p = s.Propose(0);
        s.Propose(1);
        Assert.True(s.ObserveStopped(p.ChildId, 0.42));
        Assert.False(s.ObserveStopped(p.ChildId, 0.42));
        Assert.False(s.Observe(p.ChildId, 0.9));
        Assert.Equal(1, s.PendingCount);
        var observed = s switch
        {
            RegularizedEvolution e => e.Population.Count(m => m.Reward == 0.42),
            PpoStrategy ppo => ppo.BufferedObservations,
            _ => throw new InvalidOperationException(kind),
        };
        Assert.Equal(learned, observed);
    }
}

[Collection(TorchCollection.Name)]
public class LstmPolicyTests
{
    [Fact]
    public void Sampling_and_evaluation_agree_on_log_probabilities()
    {
        // Sampling steps the LSTM by hand; evaluation runs the fused LSTM: both must be the same policy.
        var space = new DecisionSpace();
        using var policy = new LstmPolicy(space, 100, 0.5, seed: 3);
        var (decisions, logp) = policy.Sample(30, new SeededRandom(3));
        using var scope = TorchSharp.torch.NewDisposeScope();
        var (evaluated, entropy) = policy.Evaluate(decisions);
        var values = evaluated.data<float>().ToArray();
        // Float32 sums of 50 terms: agreement to about 1e-5 relative.
        for (var i = 0; i < 30; i++)
            Assert.InRange(values[i] - logp[i], -2e-3, 2e-3);
        Assert.All(entropy.data<float>().ToArray(), e => Assert.True(e > 0));
    }

    [Fact]
    public void A_sized_writer_gives_the_bytes_written_and_a_payload_of_fixed_size_costs_one_buffer()
    {
        var writer = new SizedWriter();
        static void Fill(BinaryWriter w, int n) { for (var i = 0; i < n; i++) w.Write((byte)(i * 7)); }
        static byte[] Plain(int n) { using var s = new MemoryStream(); using (var w = new BinaryWriter(s)) Fill(w, n); return s.ToArray(); }

        foreach (var n in new[] { 10, 1_000_000, 1_000_000, 3_000_000, 200 })
            Assert.Equal(Plain(n), writer.Write(w => Fill(w, n)));

        // Two writes of the same length make the next buffer exactly that long.
        const int size = 1 << 20;
        writer.Write(w => Fill(w, size));
        writer.Write(w => Fill(w, size));
        var before = GC.GetAllocatedBytesForCurrentThread();
        var again = writer.Write(w => Fill(w, size));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(size, again.Length);
        // One buffer of the payload's size (plus the stream and writer), not a doubling chain and a copy.
        Assert.InRange(allocated, size, size + 64 * 1024);
    }
}
