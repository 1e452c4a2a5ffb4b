using NasActors.ChildTrainer.Synthetic;
using NasActors.Controller.Coordinator;
using NasActors.Controller.Strategies;
using NasActors.Protocol.Messages;
using NasActors.Search;
using NasActors.Search.Events;

namespace NasActors.Bench;

/// <summary>
/// Early stopping measured on the synthetic learning curves (<see cref="SyntheticCurves"/>): a
/// search of W workers simulated epoch by epoch (each epoch one unit of time), run by the
/// coordinator's own model (<see cref="SearchModel"/>: the state's rung decisions and the strategy
/// they teach), so the figures are those of the product's logic, without the actors and the journal.
/// </summary>
public static class EarlyStoppingBenchmark
{
    /// <param name="Mode">full (every child its budget), asha (the same number of children), asha-equal (new children until as many epochs as full training spent).</param>
    /// <param name="Stopped">What the strategy learned from stopped children.</param>
    /// <param name="BestFinal">The best final accuracy among children that trained their full budget (what the search reports).</param>
    /// <param name="BestSampled">The best final accuracy among every child sampled (what full training of the same children would report).</param>
    public sealed record Outcome(string Strategy, string Stopped, double Correlation, long Seed, string Mode, int Children, long Epochs, int Trained,
        int StoppedChildren, double BestFinal, double BestSampled);

    public sealed record Setup(int Children, int Workers, int Epochs, EarlyStopSettings Asha);

    /// <summary>
    /// Costs in a simulated search of several objectives: the settings' objectives and bounds, each
    /// child's costs (measured before it trains, as a worker does), and who is told of each outcome.
    /// </summary>
    public sealed record CostSetup(Func<SearchSettings, SearchSettings> Configure, Func<SearchSpace.Genotype, ChildCosts> Measure, Action<SearchState> AfterOutcome);

    /// <summary>
    /// One search: <paramref name="children"/> children, early stopped by <paramref name="stop"/>
    /// (null: none); with <paramref name="epochBudget"/>, children are sampled until that many
    /// epochs are spent instead (those training then finish). With <paramref name="costs"/>, a search
    /// of several objectives: reports carry each child's costs and a child over a bound is refused.
    /// </summary>
    public static Outcome Simulate(Setup setup, string strategy, StoppedChildren? stopped, double rho, long seed, int children, EarlyStopSettings? stop, string mode,
        long? epochBudget = null, CostSetup? costs = null)
    {
        var settings = SearchSettings.NewSearch with
        {
            Strategy = strategy, Seed = seed, Budget = children, TopK = 0, Trainer = "synthetic-curves",
            Search = new SearchSettings().Search with { Epochs = setup.Epochs }, EarlyStop = stop,
        };
        if (costs is not null) settings = costs.Configure(settings);
        var measured = new Dictionary<long, ChildCosts>();
        using var model = new SearchModel((s, state) => StrategyCatalog.Create(StrategyCatalog.ConfigFor(s) with { Stopped = stopped }, state));
        model.Evolve(new SearchStarted(settings, DateTimeOffset.UnixEpoch));
        var curves = new SyntheticCurves(rho);
        var genotypes = new Dictionary<long, SearchSpace.Genotype>();
        // Epoch ends by time, ties in the order they were scheduled: the simulation is deterministic.
        var queue = new PriorityQueue<(string Worker, long Child, int Epoch), (long Time, long Order)>();
        long order = 0, epochsSpent = 0;

        void Report(WorkerReport report)
        {
            foreach (var e in model.State.Report(report)) model.Evolve(e);
            costs?.AfterOutcome(model.State);
        }

        void Assign(string worker, long time)
        {
            while (epochsSpent < epochBudget || epochBudget is null)
            {
                if (model.State.NextJob(worker, model.Sample) is not { } job) return;
                foreach (var e in job.Events)
                {
                    if (e is ChildSampled sampled) genotypes[sampled.ChildId] = sampled.Genotype;
                    model.Evolve(e);
                }
                if (costs is not null)
                {
                    var c = measured[job.ChildId] = costs.Measure(genotypes[job.ChildId]);
                    // Over a bound: refused at once, and the worker takes the next child.
                    if (c.Exceeded(settings.Constraints).Count > 0)
                    {
                        Report(new ChildRefusal(job.ChildId, worker, c, 0));
                        continue;
                    }
                }
                queue.Enqueue((worker, job.ChildId, 1), (time + 1, order++));
                return;
            }
        }

        for (var w = 0; w < setup.Workers; w++) Assign($"w{w}", 0);
        while (queue.TryDequeue(out var at, out var when))
        {
            epochsSpent++;
            var accuracy = curves.Accuracy(genotypes[at.Child], at.Epoch, setup.Epochs);
            var c = measured.GetValueOrDefault(at.Child);
            if (at.Epoch == setup.Epochs)
            {
                Report(new ChildResult(at.Child, false, at.Worker, accuracy, null, 1 - accuracy, c?.Parameters ?? 0, c?.MultAdds ?? 0, at.Epoch));
                Assign(at.Worker, when.Time);
                continue;
            }
            var (decisions, stopNow) = model.State.ReachRung(new RungReached(at.Worker, at.Child, at.Epoch, accuracy) { Costs = c });
            foreach (var d in decisions) model.Evolve(d);
            if (stopNow) costs?.AfterOutcome(model.State);
            if (stopNow) Assign(at.Worker, when.Time);
            else queue.Enqueue(at with { Epoch = at.Epoch + 1 }, (when.Time + 1, order++));
        }

        var state = model.State;
        var bestFinal = Ranking.Trained(state).Select(c => c.Search.Outcome!.Accuracy).DefaultIfEmpty(double.NaN).First();
        var bestSampled = genotypes.Values.Max(g => SyntheticObjective.Accuracy(g));
        return new Outcome(strategy, stopped?.ToString() ?? "default", rho, seed, mode, state.Sampled, epochsSpent, state.Trained, state.Stopped, bestFinal, bestSampled);
    }

    /// <summary>
    /// For each strategy, correlation and seed: full training, ASHA on as many children, and ASHA on
    /// as many epochs as full training spent; each ASHA search once per way of learning from stopped children.
    /// </summary>
    public static IReadOnlyList<Outcome> Run(Setup setup, IReadOnlyList<string> strategies, IReadOnlyList<double> correlations, int seeds,
        IReadOnlyList<StoppedChildren?> stoppedChoices, Action<Outcome>? each = null)
    {
        var outcomes = new List<Outcome>();
        void Add(Outcome o)
        {
            outcomes.Add(o);
            each?.Invoke(o);
        }

        foreach (var strategy in strategies)
        foreach (var rho in correlations)
        for (var seed = 0L; seed < seeds; seed++)
        {
            var full = Simulate(setup, strategy, null, rho, seed, setup.Children, null, "full");
            Add(full);
            // Random search learns nothing from anything: one way is enough.
            foreach (var stopped in strategy == "random" ? [null] : stoppedChoices)
            {
                var asha = Simulate(setup, strategy, stopped, rho, seed, setup.Children, setup.Asha, "asha");
                Add(asha);
                // Children enough for any strategy; sampling stops at full training's epochs.
                Add(Simulate(setup, strategy, stopped, rho, seed, setup.Children * setup.Epochs, setup.Asha, "asha-equal", full.Epochs));
            }
        }
        return outcomes;
    }

    /// <summary>Seeds averaged: per strategy, way of learning, correlation and mode, the mean epochs and best accuracies with their spread.</summary>
    public sealed record Summary(string Strategy, string Stopped, double Correlation, string Mode, double Children, double Epochs, double BestFinal, double BestFinalSd,
        double BestSampled, int Seeds);

    public static IReadOnlyList<Summary> Summarize(IEnumerable<Outcome> outcomes) =>
        outcomes.GroupBy(o => (o.Strategy, o.Stopped, o.Correlation, o.Mode))
            .Select(g =>
            {
                var best = g.Select(o => o.BestFinal).ToList();
                var mean = best.Average();
                return new Summary(g.Key.Strategy, g.Key.Stopped, g.Key.Correlation, g.Key.Mode, g.Average(o => o.Children), g.Average(o => o.Epochs), Math.Round(mean, 4),
                    Math.Round(Math.Sqrt(best.Sum(b => (b - mean) * (b - mean)) / Math.Max(1, best.Count - 1)), 4), Math.Round(g.Average(o => o.BestSampled), 4), g.Count());
            })
            .ToList();
}
