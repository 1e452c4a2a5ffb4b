using NasActors.SearchSpace;

namespace NasActors.Controller.Strategies;

/// <summary>
/// An architecture to train: its decisions, their log-probability under the policy that proposed
/// it (0 where the strategy has no policy) and that policy's version.
/// </summary>
public sealed record Proposal(long ChildId, Genotype Genotype, int[] Decisions, double LogProbability, int PolicyVersion);

/// <summary>
/// A search strategy: proposes architectures, learns from their rewards. Pure and seeded: the
/// same seed and the same calls give the same proposals, and <see cref="SaveState"/> captures
/// everything (weights, optimizer, baseline, random state, pending proposals) needed to go on
/// exactly as the original would.
/// </summary>
public interface ISearchStrategy : IDisposable
{
    string Kind { get; }

    /// <summary>Increases each time the strategy's policy changes (PPO updates); 0 for strategies without one.</summary>
    int PolicyVersion { get; }

    /// <summary>Children proposed and not yet observed.</summary>
    int PendingCount { get; }

    /// <summary>Proposes the architecture for child <paramref name="childId"/> (ids must be new).</summary>
    Proposal Propose(long childId);

    /// <summary>
    /// The child's reward, or null when it failed (it then counts with the configured failure
    /// reward); <paramref name="point"/>: its objectives in a search of several (values to minimise,
    /// see <see cref="Search.ObjectiveSet"/>), for strategies that select by Pareto rank. Returns
    /// false, changing nothing, for a child that is not pending (unknown or already observed).
    /// </summary>
    bool Observe(long childId, double? reward, IReadOnlyList<double>? point = null);

    /// <summary>
    /// The child was refused over a bound, untrained: it is no longer pending, and the strategy
    /// learns that it is to be avoided (PPO: the failure reward, MnasNet's hard constraint; evolution
    /// never takes it as a parent). Returns false, changing nothing, for a child that is not pending.
    /// </summary>
    bool ObserveRefused(long childId);

    /// <summary>
    /// The child was stopped early at a rung with <paramref name="rungAccuracy"/>: it is no longer
    /// pending, and what the strategy learns from it is its <see cref="StoppedChildren"/> choice.
    /// Returns false, changing nothing, for a child that is not pending.
    /// </summary>
    bool ObserveStopped(long childId, double rungAccuracy, IReadOnlyList<double>? point = null);

    byte[] SaveState();

    /// <summary>A policy update waits to be computed (strategies whose updates are deferred).</summary>
    bool HasPendingUpdate { get; }

    /// <summary>The oldest pending update, as a function safe to run on another thread; returns the new weights.</summary>
    Func<byte[]> PrepareUpdate();

    /// <summary>Installs a computed update: the next <see cref="PolicyVersion"/>.</summary>
    void ApplyUpdate(byte[] updated);
}
