using NasActors.Controller.Strategies;
using NasActors.SearchSpace;

namespace NasActors.Tests.Controller;

/// <summary>Rewards computed from the genotype alone, to show that the strategies learn.</summary>
public static class SyntheticObjectives
{
    private static readonly HashSet<Op> Preferred = [Op.SepConv3x3, Op.MaxPool3x3, Op.DilConv3x3];

    /// <summary>Fraction of the 4B ops that belong to a hidden preferred set (3 of 13 ops).</summary>
    public static double PreferredOps(Genotype g)
    {
        var ops = g.Normal.Blocks.Concat(g.Reduction.Blocks).SelectMany(b => new[] { b.OpA, b.OpB }).ToList();
        return ops.Count(Preferred.Contains) / (double)ops.Count;
    }

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

    public static double TopMean(IEnumerable<double> rewards, int k = 10) => rewards.OrderDescending().Take(k).Average();
}
