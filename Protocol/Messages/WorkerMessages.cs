using NasActors.SearchSpace;

namespace NasActors.Protocol.Messages;

/// <summary>A device worker announces itself to the coordinator (repeated until <see cref="WorkerRegistered"/>).</summary>
[WireName("worker.register")]
public sealed record RegisterWorker(string WorkerId, string Device, string Trainer) : IWireMessage;

[WireName("worker.registered")]
public sealed record WorkerRegistered(string WorkerId) : IWireMessage;

/// <summary>An idle worker asks for its next job (work pulling).</summary>
[WireName("worker.request-work")]
public sealed record RequestWork(string WorkerId) : IWireMessage;

/// <summary>Nothing to do now; <see cref="Finished"/> when the search (and its final training) is over.</summary>
[WireName("worker.no-work")]
public sealed record NoWork(bool Finished) : IWireMessage;

/// <summary>
/// A job: train child <see cref="ChildId"/> (or, when <see cref="Final"/>, retrain it with the
/// final budget). <see cref="Attempt"/> counts dispatches of the same child. <see cref="Rungs"/>:
/// the epochs at which early stopping judges it (validation is measured there and reported as
/// <see cref="RungReached"/>); null: it trains its full budget.
/// </summary>
[WireName("worker.train-child")]
public sealed record TrainChild(long ChildId, Genotype Genotype, bool Final, int Seed, int Attempt, TrainingSpec Spec, IReadOnlyList<int>? Rungs = null) : IWireMessage
{
    /// <summary>A search job's latency to measure and bounds to refuse it over (null: none; its parameters and mult-adds are measured always).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public CostRequest? Costs { get; init; }
}

/// <summary>
/// A child reached a rung epoch with this validation accuracy. The worker trains on meanwhile and
/// repeats it until <see cref="RungDecided"/> arrives; a training that ends first carries the value
/// in its report (<see cref="WorkerReport.Rungs"/>), so a coordinator that moved still decides.
/// <see cref="Rungs"/>: the values at every rung it has reached so far, this one included, so that an
/// earlier rung whose answer was lost is decided first.
/// </summary>
[WireName("worker.rung-reached")]
public sealed record RungReached(string WorkerId, long ChildId, int Epoch, double Accuracy) : IWireMessage
{
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<RungValue>? Rungs { get; init; }

    /// <summary>The child's costs, measured before it trained: a rung of a search of several objectives compares them with its accuracy.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public ChildCosts? Costs { get; init; }
}

/// <summary>
/// The coordinator's stored decision at a rung: <see cref="Stop"/>, the worker drops the child;
/// <see cref="JobFollows"/>, its next job was assigned in the same write and is on its way (else it asks for work).
/// </summary>
[WireName("worker.rung-decided")]
public sealed record RungDecided(long ChildId, int Epoch, bool Stop, bool JobFollows = false) : IWireMessage;

/// <summary>
/// Sent every few seconds while a worker trains: how a coordinator that has just (re)started, or
/// moved to another machine, learns which running children still have a live worker.
/// </summary>
[WireName("worker.still-training")]
public sealed record StillTraining(string WorkerId, long ChildId, bool Final) : IWireMessage;

[WireName("worker.child-progress")]
public sealed record ChildProgress(long ChildId, bool Final, string WorkerId, int Epoch, int Epochs, double? ValidationAccuracy) : IWireMessage;

/// <summary>
/// A trained child; <see cref="Accuracy"/> is its validation accuracy (the reward), and final
/// trainings add the test accuracy. Sent until <see cref="ResultRecorded"/> arrives.
/// </summary>
[WireName("worker.child-result")]
public sealed record ChildResult(long ChildId, bool Final, string WorkerId, double Accuracy, double? TestAccuracy, double Loss, long Parameters, long MultAdds, double Seconds)
    : WorkerReport(ChildId, Final, WorkerId)
{
    /// <summary>Epochs resumed from the child's checkpoint, not trained again by this attempt (null: none).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public int? ResumedEpochs { get; init; }

    /// <summary>A final training's kept network: the folder of its model.py and model.pt on the worker's machine (null: none kept).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Weights { get; init; }
}

/// <summary>A child that could not be trained, with the reason; sent until <see cref="ResultRecorded"/> arrives.</summary>
[WireName("worker.child-failure")]
public sealed record ChildFailure(long ChildId, bool Final, string WorkerId, string Reason) : WorkerReport(ChildId, Final, WorkerId);

/// <summary>
/// A search child over one of its job's bounds, measured and never trained: its costs, and the
/// bounds they exceed. Sent until <see cref="ResultRecorded"/> arrives.
/// </summary>
[WireName("worker.child-refusal")]
public sealed record ChildRefusal(long ChildId, string WorkerId, ChildCosts Measured, double Seconds) : WorkerReport(ChildId, false, WorkerId);

/// <summary>
/// A worker's outcome of one job, trained or failed: the coordinator records both through one path.
/// <see cref="Rungs"/>: the values its search training measured at its rungs, so that a rung whose
/// decision never came back (a coordinator that moved, a database outage) is decided before the
/// outcome is stored.
/// </summary>
public abstract record WorkerReport(long ChildId, bool Final, string WorkerId) : IWireMessage
{
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<RungValue>? Rungs { get; init; }

    /// <summary>The child's costs as measured before it trained (a result's latency; a failure's when <see cref="Rungs"/> may need deciding with them; null: not measured).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public ChildCosts? Costs { get; init; }
}

/// <summary>A child's validation accuracy at a rung epoch, as its worker measured it.</summary>
public sealed record RungValue(int Epoch, double Accuracy);

/// <summary>
/// The coordinator has stored the outcome of the child (or had already). <see cref="JobFollows"/>:
/// the next job was assigned in the same write and is on its way, so the worker need not ask.
/// </summary>
[WireName("worker.result-recorded")]
public sealed record ResultRecorded(long ChildId, bool Final, bool JobFollows = false) : IWireMessage;

/// <summary>
/// The worker's device failed its kernel check (<see cref="Reason"/> names the kernel and shape):
/// it takes no work and reports nothing until it passes again, and what it was training goes back
/// to the queue. Sent until <see cref="DeviceHealthRecorded"/> arrives.
/// </summary>
[WireName("worker.device-unhealthy")]
public sealed record DeviceUnhealthy(string WorkerId, string Reason) : IWireMessage;

/// <summary>The worker's device passed its kernel check again: it takes work. Sent until <see cref="DeviceHealthRecorded"/> arrives.</summary>
[WireName("worker.device-healthy")]
public sealed record DeviceHealthy(string WorkerId) : IWireMessage;

/// <summary>The coordinator has stored the worker's health (or had already).</summary>
[WireName("worker.device-health-recorded")]
public sealed record DeviceHealthRecorded(string WorkerId, bool Healthy) : IWireMessage;
