using NasActors.Controller.Strategies;
using NasActors.Persistence.Snapshots;
using NasActors.Search;
using NasActors.Search.Events;

namespace NasActors.Controller.Coordinator;

/// <summary>
/// The search as the coordinator holds it: the state, which decides what a command means as
/// events, and the strategy those events drive. One fold for both: <see cref="Evolve"/> moves the
/// state and teaches the strategy each result, live and in recovery alike; <see cref="Replay"/>
/// also recomputes what the strategy did to produce the event (a proposal, a policy update),
/// which is deterministic, so recovery ends exactly where the search was.
/// </summary>
public sealed class SearchModel(Func<SearchSettings, byte[]?, ISearchStrategy> createStrategy) : IDisposable
{
    public SearchState State { get; private set; } = SearchState.Empty;

    /// <summary>The strategy of a started search (null before).</summary>
    public ISearchStrategy? Strategy { get; private set; }

    /// <summary>Recovery from a snapshot: the state and the strategy as they were saved together.</summary>
    public void Restore(ISearchSnapshot snapshot)
    {
        State = snapshot.ToState();
        Replace(createStrategy(State.Settings!, snapshot.StrategyState));
    }

    public SearchSnapshot Snapshot() => SearchSnapshot.Of(State, Strategy!.SaveState());

    /// <summary>A new child: the strategy proposes it (the decide step of <see cref="ChildSampled"/>).</summary>
    public ChildSampled Sample(long childId)
    {
        var p = Strategy!.Propose(childId);
        return new ChildSampled(p.ChildId, p.Genotype, p.Decisions, p.LogProbability, p.PolicyVersion);
    }

    /// <summary>Folds a decided event: the state moves; a search starts its strategy; a result teaches it.</summary>
    public void Evolve(ISearchEvent evt)
    {
        State = State.Evolve(evt);
        switch (evt)
        {
            case SearchStarted started:
                Replace(createStrategy(started.Settings, null));
                break;
            case ChildTrained trained when State.Objectives is { } objectives && State.CostReference is { } reference:
                Strategy!.Observe(trained.ChildId, objectives.Reward(trained.Accuracy, trained.Costs, reference, trained.ChildId),
                    objectives.Point(trained.Accuracy, trained.Costs, reference));
                break;
            case ChildTrained trained:
                Strategy!.Observe(trained.ChildId, trained.Accuracy);
                break;
            case ChildRefused refused:
                Strategy!.ObserveRefused(refused.ChildId);
                break;
            case ChildFailed failed:
                Strategy!.Observe(failed.ChildId, null);
                break;
            case ChildReachedRung { Stopped: true, Costs: { } measured } stopped when State.Objectives is { } objectives && State.CostReference is { } reference:
                Strategy!.ObserveStopped(stopped.ChildId, objectives.Reward(stopped.Accuracy, measured, reference, stopped.ChildId), objectives.Point(stopped.Accuracy, measured, reference));
                break;
            case ChildReachedRung { Stopped: true } stopped:
                Strategy!.ObserveStopped(stopped.ChildId, stopped.Accuracy);
                break;
        }
    }

    /// <summary>
    /// Recovery: folds a stored event and has the strategy do again what produced it. Returns what
    /// disagrees with the journal, if anything (the journal wins).
    /// </summary>
    public string? Replay(ISearchEvent evt)
    {
        Evolve(evt);
        switch (evt)
        {
            case ChildSampled sampled when !Strategy!.Propose(sampled.ChildId).Decisions.SequenceEqual(sampled.Decisions):
                return $"child {sampled.ChildId}: the restored strategy proposes another architecture than the journal holds; the journal wins";
            case PolicyUpdated updated when Strategy!.HasPendingUpdate:
                Strategy.ApplyUpdate(Strategy.PrepareUpdate()());
                return Strategy.PolicyVersion == updated.Version ? null : $"policy version {updated.Version} replayed as {Strategy.PolicyVersion}; the journal wins";
            default:
                return null;
        }
    }

    private void Replace(ISearchStrategy strategy)
    {
        Strategy?.Dispose();
        Strategy = strategy;
    }

    public void Dispose() => Strategy?.Dispose();
}
