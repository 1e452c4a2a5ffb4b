using NasActors.ChildTrainer.Workers;
using NasActors.Controller.Strategies;
using NasActors.Protocol.Messages;
using NasActors.Search;
using NasActors.SearchSpace;

namespace NasActors.Bench;

/// <summary>
/// Searches of accuracy against mult-adds, simulated as <see cref="EarlyStoppingBenchmark"/> does
/// (the coordinator's own model, W workers epoch by epoch): children follow the synthetic learning
/// curves, whose final accuracy is the synthetic objective (separable convolutions score best, and
/// they are the dear ops, so accuracy rises with cost), and each child's mult-adds are its real
/// network's at the search's default settings (<see cref="CostMeter"/>, as a worker measures them).
/// The hypervolume of the trained children is measured after every outcome against one fixed
/// reference point (accuracy 0, <see cref="Setup.ReferenceMultAdds"/>), so runs compare.
/// </summary>
public static class ObjectivesBenchmark
{
    public sealed record Setup(int Children, int Workers, int Epochs, double Correlation, EarlyStopSettings Asha, double ReferenceMultAdds);

    /// <summary>One search: the hypervolume after each outcome (trained or stopped child, in order), its child-epochs and refusals.</summary>
    public sealed record Curve(string Strategy, bool Asha, long Seed, IReadOnlyList<double> Hypervolume, long Epochs, int Refused, int FrontSize);

    /// <param name="reward">PPO's scalar reward (<see cref="ObjectiveSet.Rewards"/>; null: the default)</param>
    public static Curve Simulate(Setup setup, string strategy, long seed, bool asha, string? reward = null)
    {
        var spec = new SearchSettings().Search with { Epochs = setup.Epochs };
        var hypervolumes = new List<double>();
        var front = new List<IReadOnlyList<double>>();
        var seen = 0;
        var counted = new HashSet<long>();
        var cache = new Dictionary<string, ChildCosts>();

        ChildCosts Measure(Genotype g)
        {
            var key = GenotypeJson.Write(g, indented: false);
            return cache.TryGetValue(key, out var c) ? c : cache[key] = CostMeter.Measure(new TrainChild(0, g, false, 0, 1, spec), "cpu");
        }

        void After(SearchState s)
        {
            var done = s.Trained + s.Stopped + s.Failed;
            if (done == seen) return;
            seen = done;
            foreach (var c in s.Children.Values.Where(c => c.Search.Status == JobStatus.Trained && counted.Add(c.Id)))
            {
                Pareto.AddToFront(front, [1 - c.Search.Outcome!.Accuracy, c.Search.Outcome.MultAdds / setup.ReferenceMultAdds]);
            }
            hypervolumes.Add(Pareto.Hypervolume(front));
        }

        var costs = new EarlyStoppingBenchmark.CostSetup(s => s with { Objectives = ["accuracy", "mult_adds"], PpoReward = reward }, Measure, After);
        var outcome = EarlyStoppingBenchmark.Simulate(new EarlyStoppingBenchmark.Setup(setup.Children, setup.Workers, setup.Epochs, setup.Asha), strategy, null,
            setup.Correlation, seed, setup.Children, asha ? setup.Asha : null, asha ? "asha" : "full", costs: costs);
        var name = strategy == "ppo" && reward is not null ? $"ppo ({reward})" : strategy;
        return new Curve(name, asha, seed, hypervolumes, outcome.Epochs, outcome.Children - setup.Children, front.Count);
    }

    /// <param name="rewards">PPO's scalar rewards to measure, each a strategy of its own</param>
    public static IReadOnlyList<Curve> Run(Setup setup, IReadOnlyList<string> strategies, int seeds, IReadOnlyList<string?> rewards, Action<Curve>? each = null)
    {
        var curves = new List<Curve>();
        foreach (var asha in new[] { false, true })
        foreach (var strategy in strategies)
        foreach (var reward in strategy == "ppo" ? rewards : [null])
        for (var seed = 0L; seed < seeds; seed++)
        {
            var curve = Simulate(setup, strategy, seed, asha, reward);
            curves.Add(curve);
            each?.Invoke(curve);
        }
        return curves;
    }

    /// <summary>
    /// Seeds averaged, per strategy and mode: the mean hypervolume after a tenth, a quarter, half and
    /// all of the children, and the children after which the mean curve first reaches random
    /// search's final mean hypervolume in the same mode (null: never).
    /// </summary>
    public sealed record Summary(string Strategy, bool Asha, double At10, double At25, double At50, double Final, double FinalSd, int? ChildrenToRandomFinal,
        double Epochs, int Seeds);

    public static IReadOnlyList<Summary> Summarize(IReadOnlyList<Curve> curves)
    {
        var means = curves.GroupBy(c => (c.Strategy, c.Asha)).ToDictionary(g => g.Key, g =>
        {
            var n = g.Min(c => c.Hypervolume.Count);
            return (Mean: Enumerable.Range(0, n).Select(i => g.Average(c => c.Hypervolume[i])).ToList(), Runs: g.ToList());
        });
        return means.Select(kv =>
        {
            var (mean, runs) = kv.Value;
            var finals = runs.Select(r => r.Hypervolume[^1]).ToList();
            var final = finals.Average();
            var target = means.TryGetValue(("random", kv.Key.Asha), out var random) ? random.Mean[^1] : double.NaN;
            var reach = mean.FindIndex(h => h >= target);
            double At(double share) => Math.Round(mean[Math.Max(0, (int)Math.Ceiling(mean.Count * share) - 1)], 4);
            return new Summary(kv.Key.Strategy, kv.Key.Asha, At(0.1), At(0.25), At(0.5), Math.Round(final, 4),
                Math.Round(Math.Sqrt(finals.Sum(f => (f - final) * (f - final)) / Math.Max(1, finals.Count - 1)), 4), reach < 0 ? null : reach + 1,
                runs.Average(r => r.Epochs), runs.Count);
        }).ToList();
    }
}
