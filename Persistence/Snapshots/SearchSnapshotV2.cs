using System.Collections.Immutable;
using System.Text.Json.Serialization;
using NasActors.Protocol;
using NasActors.Search;

namespace NasActors.Persistence.Snapshots;

/// <summary>
/// The coordinator's snapshot as written until 2026-12-07 (read ever since): the state's facts
/// (settings, counters, children with their trainings as JSON objects, unhealthy workers) with job
/// statuses by name. The queues and running indexes are not stored: they follow from the
/// children's statuses and are rebuilt on reading. Written only by the golden test.
/// </summary>
[WireName("snapshot.search-state.v2")]
public sealed record SearchSnapshotV2(StoredSearchStateV2 State, byte[] StrategyState) : ISearchSnapshot
{
    public static SearchSnapshotV2 Of(SearchState state, byte[] strategyState) => new(StoredSearchStateV2.From(state), strategyState);

    public SearchState ToState() => State.ToState();
}

public sealed record StoredSearchStateV2(
    SearchSettings? Settings, int Budget, DateTimeOffset? StartedAt, DateTimeOffset? CompletedAt, long NextChildId, int PolicyVersion,
    int IgnoredResults, int Trained, int Failed, double? BestAccuracy, bool FinalQueued, IReadOnlyList<StoredChild> Children,
    IReadOnlyDictionary<string, string> Unhealthy,
    // Early stopping's count; left out at 0, so snapshots of runs without it keep their bytes.
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] int Stopped = 0)
{
    public static StoredSearchStateV2 From(SearchState s) => new(
        s.Settings, s.Budget, s.StartedAt, s.CompletedAt, s.NextChildId, s.PolicyVersion, s.IgnoredResults, s.Trained, s.Failed, s.BestAccuracy,
        s.FinalQueued, s.Children.Values.Select(StoredChild.From).ToList(), s.Unhealthy, s.Stopped);

    public SearchState ToState()
    {
        // A builder, not ToImmutableSortedDictionary (which sorts through a SortedDictionary first):
        // 20,000 children in about half the time, which a status of a large run waits for.
        var children = ImmutableSortedDictionary.CreateBuilder<long, ChildRecord>();
        foreach (var c in Children)
        {
            var child = c.ToRecord();
            if (!children.TryAdd(child.Id, child)) throw new ArgumentException($"child {child.Id} is stored twice");
        }
        return SearchIndexes.Rebuild(new SearchState
        {
            Settings = Settings, Budget = Budget, StartedAt = StartedAt, CompletedAt = CompletedAt, NextChildId = NextChildId,
            PolicyVersion = PolicyVersion, IgnoredResults = IgnoredResults, Trained = Trained, Failed = Failed, Stopped = Stopped, BestAccuracy = BestAccuracy,
            FinalQueued = FinalQueued, Children = children.ToImmutable(),
            Unhealthy = Unhealthy.ToImmutableSortedDictionary(),
        });
    }
}

public sealed record StoredChild(
    long Id, [property: JsonConverter(typeof(DecisionsJsonConverter))] int[] Decisions, double LogProbability, int PolicyVersion,
    StoredJob Search, StoredJob? Final,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<StoredRung>? Rungs = null)
{
    public static StoredChild From(ChildRecord c) => new(c.Id, c.Decisions, c.LogProbability, c.PolicyVersion, StoredJob.From(c.Search), c.Final is { } f ? StoredJob.From(f) : null,
        c.Rungs?.Select(r => new StoredRung(r.Epoch, r.Accuracy, r.Stopped, r.EpochsTrained)).ToList());

    public ChildRecord ToRecord() => new(Id, Decisions, LogProbability, PolicyVersion, Search.ToJob(), Final?.ToJob(),
        Rungs?.Select(r => new RungResult(r.Epoch, r.Accuracy, r.Stopped, r.EpochsTrained)).ToImmutableList());
}

/// <summary>A child's value at a rung, and whether it was stopped there.</summary>
public sealed record StoredRung(int Epoch, double Accuracy, bool Stopped,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? EpochsTrained = null);

/// <summary>A training as stored: its status by name (<c>queued</c>, <c>running</c>, <c>trained</c>, <c>failed</c>).</summary>
public sealed record StoredJob(string Status, string? WorkerId, int Attempts, StoredOutcome? Outcome, string? FailReason)
{
    public static StoredJob From(TrainingJob j) => new(StatusNames.Name(j.Status), j.WorkerId, j.Attempts, StoredOutcome.From(j.Outcome), j.FailReason);

    public TrainingJob ToJob() => new(StatusNames.Parse(Status), WorkerId, Attempts, Outcome?.ToOutcome(), FailReason);
}

public sealed record StoredOutcome(double Accuracy, double? TestAccuracy, double Loss, long Parameters, long MultAdds, double Seconds)
{
    public static StoredOutcome? From(JobOutcome? o) => o is null ? null : new(o.Accuracy, o.TestAccuracy, o.Loss, o.Parameters, o.MultAdds, o.Seconds);

    public JobOutcome ToOutcome() => new(Accuracy, TestAccuracy, Loss, Parameters, MultAdds, Seconds);
}
