using System.Text.Json;
using NasActors.Persistence;
using NasActors.Search;
using NasActors.Search.Events;
using NasActors.Tests.Support;

namespace NasActors.Tests.Cli;

/// <summary>Searches for accuracy against cost, through real nas processes: bounds, the front, the hypervolume, and what is refused.</summary>
public class ObjectivesCommandTests
{
    [Theory]
    [InlineData("evolution")]
    [InlineData("ppo")]
    public void A_bounded_search_trains_its_budget_within_the_bound_and_lists_its_front(string strategy)
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        // About half of random samples of the default network are over 4.5e6 mult-adds.
        var r = NasProcess.Run("search", "--run", run, "--trainer", "synthetic", "--strategy", strategy, "--children", "12", "--top-k", "0", "--seed", "5",
            "--objectives", "accuracy,mult_adds", "--max-mult-adds", "4.5e6", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var events = new FolderRunStore(run).ReadEvents();
        var trained = events.OfType<ChildTrained>().ToList();
        var refused = events.OfType<ChildRefused>().ToList();
        using (var stored = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "run.json"))))
            Assert.Equal(ObjectiveSet.DefaultReward, stored.RootElement.GetProperty("ppo_reward").GetString());
        Assert.Equal(12, trained.Count);
        Assert.NotEmpty(refused);
        Assert.All(trained, t => Assert.InRange(t.MultAdds, 1, 4.5e6));
        Assert.All(refused, t => Assert.True(t.Costs.MultAdds > 4.5e6));
        Assert.Equal(events.OfType<ChildSampled>().Count(), trained.Count + refused.Count);

        using (var status = JsonDocument.Parse(NasProcess.Run("status", "--run", run, "--json").Stdout))
        {
            var root = status.RootElement;
            Assert.Equal(refused.Count, root.GetProperty("refused").GetInt32());
            Assert.Equal(12, root.GetProperty("completed").GetInt32());
            Assert.InRange(root.GetProperty("hypervolume").GetDouble(), 0.01, 1);
            Assert.Equal("accuracy 0, mult_adds 4.5e6", root.GetProperty("reference").GetString());
        }

        // The front: non-dominated among the trained, every objective on each row.
        var front = NasProcess.Run("top", "--run", run, "--pareto", "--json");
        Assert.True(front.ExitCode == 0, front.Stderr);
        using var doc = JsonDocument.Parse(front.Stdout);
        var rows = doc.RootElement.EnumerateArray().Select(e => (Id: e.GetProperty("child_id").GetInt64(), Acc: e.GetProperty("accuracy").GetDouble(),
            Madds: e.GetProperty("mult_adds").GetInt64())).ToList();
        Assert.NotEmpty(rows);
        foreach (var t in trained)
        {
            var dominated = trained.Any(o => o.Accuracy >= t.Accuracy && o.MultAdds <= t.MultAdds && (o.Accuracy > t.Accuracy || o.MultAdds < t.MultAdds));
            Assert.Equal(!dominated, rows.Any(x => x.Id == t.ChildId));
        }
        var text = NasProcess.Run("top", "--run", run, "--pareto");
        Assert.Contains($"{rows.Count} non-dominated of 12 trained (accuracy,mult_adds); hypervolume", text.Stdout);
    }

    [Fact]
    public void Early_stopping_of_several_objectives_judges_each_rung_with_the_childs_costs_and_retrains_the_ends_of_the_front()
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        var r = NasProcess.Run("search", "--run", run, "--trainer", "synthetic-curves", "--strategy", "random", "--children", "30", "--top-k", "2", "--seed", "2",
            "--objectives", "accuracy,mult_adds", "--early-stop", "asha", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var events = new FolderRunStore(run).ReadEvents();
        var rungs = events.OfType<ChildReachedRung>().ToList();
        Assert.NotEmpty(rungs);
        Assert.Contains(rungs, x => x.Stopped);
        var trained = events.OfType<ChildTrained>().ToDictionary(t => t.ChildId);
        // Each rung carries the costs the child was measured at, the same its result reports.
        Assert.All(rungs, x => Assert.True(x.Costs is { MultAdds: > 0 }));
        Assert.All(rungs.Where(x => trained.ContainsKey(x.ChildId)), x => Assert.Equal(trained[x.ChildId].MultAdds, x.Costs!.MultAdds));
        // The two finalists are the two ends of the front: the best and the cheapest of it.
        var state = new FolderRunStore(run).ReadState();
        var front = SearchViews.Front(state);
        var queued = Assert.Single(events.OfType<FinalTrainingQueued>()).ChildIds;
        Assert.Equal(new[] { front.MaxBy(c => c.Accuracy)!.ChildId, front.MinBy(c => c.MultAdds)!.ChildId }.Order(), queued.Order());
    }

    [Fact]
    public void Every_child_has_its_parameters_and_mult_adds_whatever_its_trainer_and_objectives()
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        var r = NasProcess.Run("search", "--run", run, "--trainer", "synthetic", "--children", "3", "--top-k", "0", "--strategy", "random", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var top = JsonDocument.Parse(NasProcess.Run("top", "--run", run, "--json").Stdout);
        Assert.All(top.RootElement.EnumerateArray(), row =>
        {
            Assert.InRange(row.GetProperty("params").GetInt64(), 1000, 1_000_000);
            Assert.InRange(row.GetProperty("mult_adds").GetInt64(), 100_000, 100_000_000);
        });
        var pareto = NasProcess.Run("top", "--run", run, "--pareto");
        Assert.Equal(2, pareto.ExitCode);
        Assert.Contains("searches accuracy alone", pareto.Stderr);
    }

    [Theory]
    [InlineData("unknown objective \"flops\"", "--objectives", "accuracy,flops")]
    [InlineData("a bound on params, which is not searched", "--objectives", "accuracy,mult_adds", "--max-params", "5e6")]
    [InlineData("--max-mult-adds: must be a positive number, got \"-1\"", "--objectives", "accuracy,mult_adds", "--max-mult-adds=-1")]
    [InlineData("--max-mult-adds: must be a positive number, got \"lots\"", "--objectives", "accuracy,mult_adds", "--max-mult-adds", "lots")]
    [InlineData("latency batch must be between 1 and 1024, got 0", "--objectives", "accuracy,latency_ms", "--latency-batch", "0")]
    [InlineData("the objectives must include accuracy", "--objectives", "latency_ms")]
    [InlineData("latency is measured on each worker's own device", "--objectives", "accuracy,latency_ms", "--devices", "cpu,cuda:0")]
    public void Bad_objectives_and_bounds_are_one_line_and_store_nothing(string expected, params string[] options)
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        var r = NasProcess.Run(["search", "--run", run, "--trainer", "synthetic", "--children", "2", .. options]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(expected, r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.False(File.Exists(Path.Combine(run, "run.json")));
    }

    [Fact]
    public void Latency_on_a_device_this_machine_lacks_is_refused_before_anything_is_stored()
    {
        // Where a GPU is, this would search on it.
        if (TorchSharp.torch.cuda.is_available()) return;
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        var r = NasProcess.Run("search", "--run", run, "--devices", "cuda:0", "--objectives", "accuracy,latency_ms", "--max-latency-ms", "15", "--children", "2");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--devices: device cuda:0", r.Stderr);
        Assert.False(File.Exists(Path.Combine(run, "run.json")));
    }
}
