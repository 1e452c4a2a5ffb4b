using NasActors.Bench;
using NasActors.Controller.Strategies;
using NasActors.SearchSpace;

namespace NasActors.Tests.Controller;

/// <summary>Rewards computed from the genotype alone, to show that the strategies learn.</summary>
public static class SyntheticObjectives
{
    /// <summary>The additive objective of the benchmarks (<see cref="Objectives.PreferredOps"/>).</summary>
    public static double PreferredOps(Genotype g) => Objectives.PreferredOps(g);

    /// <summary>
    /// Runs a strategy for <paramref name="budget"/> children with <paramref name="inFlight"/>
    /// proposals outstanding at a time (results arrive oldest first, as from a pool of workers);
    /// returns every reward in order of observation.
    /// </summary>
    public static List<double> Run(ISearchStrategy strategy, int budget, int inFlight = 8, Func<Genotype, double>? objective = null)
    {
        objective ??= PreferredOps;
        var queue = new Queue<Proposal>();
        var rewards = new List<double>();
        long next = 0;
        while (rewards.Count < budget)
        {
            while (queue.Count < inFlight && next < budget)
                queue.Enqueue(strategy.Propose(next++));
            var p = queue.Dequeue();
            var reward = objective(p.Genotype);
            Assert.True(strategy.Observe(p.ChildId, reward));
            rewards.Add(reward);
        }
        return rewards;
    }

    public static double TopMean(IEnumerable<double> rewards, int k = 10) => Objectives.TopMean(rewards, k);
}
