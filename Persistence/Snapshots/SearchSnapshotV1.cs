using System.Collections.Immutable;
using System.Text.Json.Serialization;
using NasActors.Protocol;
using NasActors.Search;

namespace NasActors.Persistence.Snapshots;

/// <summary>
/// The first shape of the coordinator's snapshot (written until the stored contract became its own,
/// read ever since): the search state as its record was then, job statuses as numbers, the
/// queues and running indexes included. Kept to read old runs; written only by the golden test.
/// </summary>
[WireName("snapshot.search-state")]
public sealed record SearchSnapshotV1(StoredSearchStateV1 State, byte[] StrategyState) : ISearchSnapshot
{
    public SearchState ToState() => State.ToState();

    public static SearchSnapshotV1 Of(SearchState state, byte[] strategyState) => new(StoredSearchStateV1.From(state), strategyState);
}

public sealed record StoredSearchStateV1(
    SearchSettings? Settings, int Budget, DateTimeOffset? StartedAt, DateTimeOffset? CompletedAt, long NextChildId, int PolicyVersion,
    int IgnoredResults, int Trained, int Failed, double? BestAccuracy, bool FinalQueued, IReadOnlyDictionary<long, StoredChildV1> Children,
    IReadOnlyList<long> Queue, IReadOnlyList<long> FinalQueue, IReadOnlyDictionary<long, string> Running, IReadOnlyDictionary<long, string> FinalRunning,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, string>? Unhealthy = null)
{
    public static StoredSearchStateV1 From(SearchState s) => new(
        s.Settings, s.Budget, s.StartedAt, s.CompletedAt, s.NextChildId, s.PolicyVersion, s.IgnoredResults, s.Trained, s.Failed, s.BestAccuracy,
        s.FinalQueued, s.Children.ToDictionary(c => c.Key, c => StoredChildV1.From(c.Value)), s.SearchJobs.Waiting.ToList(), s.FinalJobs.Waiting.ToList(),
        s.SearchJobs.Running, s.FinalJobs.Running, s.Unhealthy.IsEmpty ? null : s.Unhealthy);

    // The stored indexes are what the children's statuses say (an invariant of the state): rebuilt, not trusted.
    public SearchState ToState() => SearchIndexes.Rebuild(new SearchState
    {
        Settings = Settings, Budget = Budget, StartedAt = StartedAt, CompletedAt = CompletedAt, NextChildId = NextChildId,
        PolicyVersion = PolicyVersion, IgnoredResults = IgnoredResults, Trained = Trained, Failed = Failed, BestAccuracy = BestAccuracy,
        FinalQueued = FinalQueued, Children = Children.Values.Select(c => c.ToRecord()).ToImmutableSortedDictionary(c => c.Id, c => c),
        Unhealthy = (Unhealthy ?? ImmutableDictionary<string, string>.Empty).ToImmutableSortedDictionary(),
    });
}

public sealed record StoredChildV1(
    long Id, [property: JsonConverter(typeof(DecisionsJsonConverter))] int[] Decisions, double LogProbability, int PolicyVersion,
    StoredJobV1 Search, StoredJobV1? Final)
{
    public static StoredChildV1 From(ChildRecord c) => new(c.Id, c.Decisions, c.LogProbability, c.PolicyVersion, StoredJobV1.From(c.Search), c.Final is { } f ? StoredJobV1.From(f) : null);

    public ChildRecord ToRecord() => new(Id, Decisions, LogProbability, PolicyVersion, Search.ToJob(), Final?.ToJob());
}

/// <summary>A training as the first shape stored it: the status as the enum's number then.</summary>
public sealed record StoredJobV1(int Status, string? WorkerId, int Attempts, StoredOutcome? Outcome, string? FailReason)
{
    public static StoredJobV1 From(TrainingJob j) => new(StatusNames.ToV1(j.Status), j.WorkerId, j.Attempts, StoredOutcome.From(j.Outcome), j.FailReason);

    public TrainingJob ToJob() => new(StatusNames.FromV1(Status), WorkerId, Attempts, Outcome?.ToOutcome(), FailReason);
}
