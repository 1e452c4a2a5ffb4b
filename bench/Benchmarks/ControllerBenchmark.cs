using System.Diagnostics;
using NasActors.Controller.Strategies;
using NasActors.SearchSpace;

namespace NasActors.Bench;

/// <summary>
/// The controller's own cost in a search: proposals and observations (with the policy updates they
/// trigger) for a whole budget of children, results arriving with <c>inFlight</c> children outstanding.
/// </summary>
public static class ControllerBenchmark
{
    public sealed record Result(string Strategy, int Children, double ProposeSeconds, double ObserveSeconds, int Updates, double UpdateSeconds, double BestReward,
        double Top10Mean)
    {
        public double ProposalsPerSecond => Children / ProposeSeconds;
        public double ObservationsPerSecond => Children / ObserveSeconds;
        public double UpdatesPerSecond => Updates == 0 ? 0 : Updates / UpdateSeconds;
        public double MillisecondsPerChild => (ProposeSeconds + ObserveSeconds) * 1000 / Children;
    }

    public static Result Run(StrategyConfig config, int children, int inFlight, Func<Genotype, double> objective)
    {
        using var strategy = StrategyCatalog.Create(config);
        var queue = new Queue<Proposal>();
        var propose = new Stopwatch();
        var observe = new Stopwatch();
        var updates = 0;
        var updateSeconds = 0.0;
        var rewards = new List<double>(children);
        long next = 0, done = 0;
        while (done < children)
        {
            while (queue.Count < inFlight && next < children)
            {
                propose.Start();
                queue.Enqueue(strategy.Propose(next++));
                propose.Stop();
            }
            var p = queue.Dequeue();
            var reward = objective(p.Genotype);
            rewards.Add(reward);
            var version = strategy.PolicyVersion;
            var started = observe.Elapsed;
            observe.Start();
            strategy.Observe(p.ChildId, reward);
            observe.Stop();
            if (strategy.PolicyVersion != version)
            {
                // The observation that completed a minibatch carried the update.
                updates++;
                updateSeconds += (observe.Elapsed - started).TotalSeconds;
            }
            done++;
        }
        return new Result(config.Kind, children, propose.Elapsed.TotalSeconds, observe.Elapsed.TotalSeconds, updates, updateSeconds, rewards.Max(),
            Objectives.TopMean(rewards));
    }
}
