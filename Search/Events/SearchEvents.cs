using NasActors.Protocol;
using NasActors.Protocol.Messages;
using NasActors.SearchSpace;

namespace NasActors.Search.Events;

/// <summary>An event of the search coordinator's journal: what <see cref="SearchState.Evolve"/> folds.</summary>
public interface ISearchEvent : IWireMessage;

/// <summary>The first event of a run: its full configuration.</summary>
[WireName("event.search-started")]
public sealed record SearchStarted(SearchSettings Settings, DateTimeOffset At) : ISearchEvent;

[WireName("event.budget-increased")]
public sealed record BudgetIncreased(int Budget) : ISearchEvent;

/// <summary>A resume gave trainings other time limits (a slower or faster machine); the jobs sent from then on carry them.</summary>
[WireName("event.timeouts-changed")]
public sealed record TimeoutsChanged(int SearchSeconds, int FinalSeconds) : ISearchEvent;

/// <summary>The strategy proposed a child; persisted before the child is dispatched.</summary>
[WireName("event.child-sampled")]
public sealed record ChildSampled(long ChildId, Genotype Genotype, int[] Decisions, double LogProbability, int PolicyVersion) : ISearchEvent;

[WireName("event.child-assigned")]
public sealed record ChildAssigned(long ChildId, bool Final, string WorkerId, int Attempt) : ISearchEvent;

/// <summary>A child trained its search budget; <see cref="ResumedEpochs"/>: the epochs its last attempt resumed from a checkpoint (null: none).</summary>
[WireName("event.child-trained")]
public sealed record ChildTrained(long ChildId, string WorkerId, double Accuracy, double Loss, long Parameters, long MultAdds, double Seconds,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] int? ResumedEpochs = null) : ISearchEvent
{
    /// <summary>Its inference latency, measured by its worker before it trained, and on which device (null: not measured).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? LatencyMs { get; init; }

    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? LatencyDevice { get; init; }

    [System.Text.Json.Serialization.JsonIgnore] public ChildCosts Costs => new(Parameters, MultAdds, LatencyMs, LatencyDevice);
}

/// <summary>A sampled child over one of the run's bounds, measured by a worker and never trained: an outcome that does not count against the budget.</summary>
[WireName("event.child-refused")]
public sealed record ChildRefused(long ChildId, string WorkerId, ChildCosts Costs, string Reason) : ISearchEvent;

/// <summary>
/// A child's search training reached a rung with this validation accuracy; the early-stopping
/// decision is stored with it (<see cref="Stopped"/>: it trains no further, an outcome of its own).
/// <see cref="EpochsTrained"/>: set on a stop decided late, from a later report (a later rung's or
/// the result; the rung's own answer was lost on the way), after the child had trained so many epochs.
/// </summary>
[WireName("event.child-reached-rung")]
public sealed record ChildReachedRung(long ChildId, string WorkerId, int Epoch, double Accuracy, bool Stopped,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] int? EpochsTrained = null) : ISearchEvent
{
    /// <summary>The child's costs, in a search of several objectives: the rung compared them with its accuracy (null: not measured, or accuracy alone).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public ChildCosts? Costs { get; init; }
}

[WireName("event.child-failed")]
public sealed record ChildFailed(long ChildId, string WorkerId, string Reason) : ISearchEvent;

/// <summary>A dispatched child goes back to the queue (its worker is gone, or the coordinator restarted).</summary>
[WireName("event.child-requeued")]
public sealed record ChildRequeued(long ChildId, bool Final, string Reason) : ISearchEvent;

/// <summary>A repeated or late result, recorded and not counted.</summary>
[WireName("event.result-ignored")]
public sealed record ResultIgnored(long ChildId, bool Final, string WorkerId, string Reason) : ISearchEvent;

/// <summary>The strategy's policy changed (PPO update); its weights are in the next snapshot. <see cref="Observed"/>: the search's outcomes (trained, failed, stopped) stored by then.</summary>
[WireName("event.policy-updated")]
public sealed record PolicyUpdated(int Version, int Observed) : ISearchEvent;

[WireName("event.search-completed")]
public sealed record SearchCompleted(int Trained, int Failed, double? BestAccuracy, DateTimeOffset At) : ISearchEvent;

[WireName("event.final-training-queued")]
public sealed record FinalTrainingQueued(IReadOnlyList<long> ChildIds) : ISearchEvent;

/// <summary>A finalist's final training; <see cref="Weights"/>: the folder on its worker's machine where its trained network was kept (null: none kept).</summary>
[WireName("event.final-training-completed")]
public sealed record FinalTrainingCompleted(long ChildId, string WorkerId, double Accuracy, double? TestAccuracy, double Loss, long Parameters, long MultAdds, double Seconds,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] int? ResumedEpochs = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? Weights = null) : ISearchEvent;

[WireName("event.final-training-failed")]
public sealed record FinalTrainingFailed(long ChildId, string WorkerId, string Reason) : ISearchEvent;

/// <summary>A worker's device computes wrong (its kernel check failed): no work and no reward from it until it recovers.</summary>
[WireName("event.worker-unhealthy")]
public sealed record WorkerUnhealthy(string WorkerId, string Reason) : ISearchEvent;

/// <summary>A worker's device passed its kernel check again: it takes work.</summary>
[WireName("event.worker-recovered")]
public sealed record WorkerRecovered(string WorkerId) : ISearchEvent;
