using NasActors.Persistence.Events;
using NasActors.Protocol;

namespace NasActors.Persistence;

public enum ChildStatus
{
    Queued,
    Running,
    Trained,
    Failed,
}

/// <summary>One child as the events left it (search and, if any, final training).</summary>
public sealed class ChildRecord
{
    public long Id { get; set; }
    public int[] Decisions { get; set; } = [];
    public double LogProbability { get; set; }
    public int PolicyVersion { get; set; }
    public ChildStatus Status { get; set; }
    public string? WorkerId { get; set; }
    public int Attempts { get; set; }
    public double? Accuracy { get; set; }
    public double? Loss { get; set; }
    public long? Parameters { get; set; }
    public long? MultAdds { get; set; }
    public double? Seconds { get; set; }
    public string? FailReason { get; set; }
    public ChildStatus? FinalStatus { get; set; }
    public string? FinalWorkerId { get; set; }
    public int FinalAttempts { get; set; }
    public double? FinalAccuracy { get; set; }
    public double? FinalTestAccuracy { get; set; }
    public string? FinalFailReason { get; set; }
}

/// <summary>A child (or its final training) on a worker now.</summary>
public readonly record struct RunningJob(long ChildId, bool Final, string WorkerId);

/// <summary>The serializable form of <see cref="SearchState"/>, stored in snapshots with the strategy's bytes.</summary>
[WireName("snapshot.search")]
public sealed record SearchSnapshot(
    SearchSettings Settings,
    int Budget,
    DateTimeOffset StartedAt,
    DateTimeOffset? CompletedAt,
    long NextChildId,
    int PolicyVersion,
    int IgnoredResults,
    IReadOnlyList<ChildRecord> Children,
    byte[] StrategyState) : IWireMessage;

/// <summary>
/// The search folded from its events: pure, no actors, no I/O. The coordinator applies each
/// event after persisting it; recovery applies the same events (after a snapshot) again.
/// </summary>
public sealed class SearchState
{
    private readonly Dictionary<long, ChildRecord> children = new();
    private readonly SortedSet<long> queued = new();
    private readonly SortedSet<long> finalQueued = new();
    private readonly Dictionary<(long ChildId, bool Final), string> running = new();

    public SearchSettings? Settings { get; private set; }
    public int Budget { get; private set; }
    public DateTimeOffset? StartedAt { get; private set; }
    public DateTimeOffset? CompletedAt { get; private set; }
    public long NextChildId { get; private set; }
    public int PolicyVersion { get; private set; }
    public int IgnoredResults { get; private set; }
    public int Trained { get; private set; }
    public int Failed { get; private set; }
    public bool SearchCompleted => CompletedAt is not null;
    public bool FinalQueued { get; private set; }

    public IReadOnlyDictionary<long, ChildRecord> Children => children;
    public int Sampled => children.Count;
    public int Running => running.Count;

    /// <summary>What is on a worker now; kept as events arrive, so asking costs nothing.</summary>
    public IEnumerable<RunningJob> RunningJobs => running.Select(r => new RunningJob(r.Key.ChildId, r.Key.Final, r.Value));

    /// <summary>Sampled children waiting for a worker (never dispatched, or requeued), oldest first.</summary>
    public IReadOnlyCollection<long> Queue => queued;
    public IReadOnlyCollection<long> FinalQueue => finalQueued;

    public bool NeedsSampling => Settings is not null && Sampled < Budget;

    /// <summary>Every budgeted child has a result (trained or failed).</summary>
    public bool AllResultsIn => Settings is not null && Trained + Failed >= Budget;

    public IEnumerable<ChildRecord> FinalChildren => children.Values.Where(c => c.FinalStatus is not null);

    public bool FinalDone => FinalQueued && FinalChildren.All(c => c.FinalStatus is ChildStatus.Trained or ChildStatus.Failed);

    /// <summary>Search complete and every queued final training done.</summary>
    public bool Finished => SearchCompleted && (FinalQueued ? FinalDone : Settings!.TopK == 0);

    public double? BestAccuracy => children.Values.Where(c => c.Accuracy is not null).Select(c => c.Accuracy).Max();

    /// <summary>Whether a result for this child would count now (it is still queued or running).</summary>
    public bool AwaitsResult(long childId, bool final) =>
        children.TryGetValue(childId, out var c) && (final ? c.FinalStatus : c.Status) is ChildStatus.Queued or ChildStatus.Running;

    public IEnumerable<RunningJob> RunningOn(string workerId) => RunningJobs.Where(j => j.WorkerId == workerId);

    public void Apply(object evt)
    {
        switch (evt)
        {
            case SearchStarted e:
                Settings = e.Settings;
                Budget = e.Settings.Budget;
                StartedAt = e.At;
                break;
            case BudgetIncreased e:
                Budget = e.Budget;
                CompletedAt = null;
                break;
            case ChildSampled e:
                children[e.ChildId] = new ChildRecord { Id = e.ChildId, Decisions = e.Decisions, LogProbability = e.LogProbability, PolicyVersion = e.PolicyVersion };
                queued.Add(e.ChildId);
                NextChildId = Math.Max(NextChildId, e.ChildId + 1);
                break;
            case ChildAssigned { Final: false } e:
                var a = children[e.ChildId];
                (a.Status, a.WorkerId, a.Attempts) = (ChildStatus.Running, e.WorkerId, e.Attempt);
                queued.Remove(e.ChildId);
                running[(e.ChildId, false)] = e.WorkerId;
                break;
            case ChildAssigned e:
                var fa = children[e.ChildId];
                (fa.FinalStatus, fa.FinalWorkerId, fa.FinalAttempts) = (ChildStatus.Running, e.WorkerId, e.Attempt);
                finalQueued.Remove(e.ChildId);
                running[(e.ChildId, true)] = e.WorkerId;
                break;
            case ChildTrained e:
                var t = children[e.ChildId];
                (t.Status, t.WorkerId, t.Accuracy, t.Loss, t.Parameters, t.MultAdds, t.Seconds) =
                    (ChildStatus.Trained, e.WorkerId, e.Accuracy, e.Loss, e.Parameters, e.MultAdds, e.Seconds);
                queued.Remove(e.ChildId);
                running.Remove((e.ChildId, false));
                Trained++;
                break;
            case ChildFailed e:
                var f = children[e.ChildId];
                (f.Status, f.WorkerId, f.FailReason) = (ChildStatus.Failed, e.WorkerId, e.Reason);
                queued.Remove(e.ChildId);
                running.Remove((e.ChildId, false));
                Failed++;
                break;
            case ChildRequeued { Final: false } e:
                children[e.ChildId].Status = ChildStatus.Queued;
                queued.Add(e.ChildId);
                running.Remove((e.ChildId, false));
                break;
            case ChildRequeued e:
                children[e.ChildId].FinalStatus = ChildStatus.Queued;
                finalQueued.Add(e.ChildId);
                running.Remove((e.ChildId, true));
                break;
            case ResultIgnored:
                IgnoredResults++;
                break;
            case PolicyUpdated e:
                PolicyVersion = e.Version;
                break;
            case SearchCompleted e:
                CompletedAt = e.At;
                break;
            case FinalTrainingQueued e:
                FinalQueued = true;
                foreach (var id in e.ChildIds)
                {
                    children[id].FinalStatus = ChildStatus.Queued;
                    finalQueued.Add(id);
                }
                break;
            case FinalTrainingCompleted e:
                var ft = children[e.ChildId];
                (ft.FinalStatus, ft.FinalWorkerId, ft.FinalAccuracy, ft.FinalTestAccuracy) = (ChildStatus.Trained, e.WorkerId, e.Accuracy, e.TestAccuracy);
                finalQueued.Remove(e.ChildId);
                running.Remove((e.ChildId, true));
                break;
            case FinalTrainingFailed e:
                var ff = children[e.ChildId];
                (ff.FinalStatus, ff.FinalWorkerId, ff.FinalFailReason) = (ChildStatus.Failed, e.WorkerId, e.Reason);
                finalQueued.Remove(e.ChildId);
                running.Remove((e.ChildId, true));
                break;
            default:
                throw new ArgumentException($"not a search event: {evt.GetType().Name}");
        }
    }

    public SearchSnapshot ToSnapshot(byte[] strategyState) =>
        new(Settings ?? throw new InvalidOperationException("no search started"), Budget, StartedAt!.Value, CompletedAt, NextChildId, PolicyVersion,
            IgnoredResults, children.Values.OrderBy(c => c.Id).ToList(), strategyState);

    public static SearchState FromSnapshot(SearchSnapshot s)
    {
        var state = new SearchState
        {
            Settings = s.Settings,
            Budget = s.Budget,
            StartedAt = s.StartedAt,
            CompletedAt = s.CompletedAt,
            NextChildId = s.NextChildId,
            PolicyVersion = s.PolicyVersion,
            IgnoredResults = s.IgnoredResults,
        };
        foreach (var c in s.Children)
        {
            state.children[c.Id] = c;
            if (c.Status == ChildStatus.Queued) state.queued.Add(c.Id);
            if (c.Status == ChildStatus.Running) state.running[(c.Id, false)] = c.WorkerId ?? "";
            if (c.FinalStatus == ChildStatus.Running) state.running[(c.Id, true)] = c.FinalWorkerId ?? "";
            if (c.Status == ChildStatus.Trained) state.Trained++;
            if (c.Status == ChildStatus.Failed) state.Failed++;
            if (c.FinalStatus is not null) state.FinalQueued = true;
            if (c.FinalStatus == ChildStatus.Queued) state.finalQueued.Add(c.Id);
        }
        return state;
    }
}
