using NasActors.Search;

namespace NasActors.Reports;

/// <summary>What a report page shows: one or more runs, as of <see cref="GeneratedAt"/>.</summary>
/// <remarks><see cref="RunReport.Writing"/>: whether a search is writing the run (false: it stopped; null: unknown).</remarks>
public sealed record ReportModel(IReadOnlyList<RunReport> Runs, DateTimeOffset GeneratedAt, bool Live, IReadOnlyList<string> OpNames);

/// <summary>One run's views, computed from its journal (pure data, serialized into the page as JSON).</summary>
public sealed record RunReport(
    string Name,
    RunSummary Summary,
    SearchSettings Settings,
    DateTimeOffset StartedAt,
    long Sequence,
    ChildTable Children,
    int MovingWindow,
    IReadOnlyList<PolicyPoint> Policy,
    IReadOnlyList<long> ParetoFront,
    CellUsage NormalUsage,
    CellUsage ReductionUsage,
    IReadOnlyList<TopChild> Top,
    IReadOnlyList<string> Workers,
    SpanTable Timeline,
    IReadOnlyList<HealthSpan> Unhealthy,
    IReadOnlyList<FailureGroup> Failures,
    IReadOnlyList<RunningNow> Running,
    Distribution? TopAccuracies,
    bool? Writing,
    IReadOnlyList<RungView> Rungs)
{
    /// <summary>A search of several objectives: its costs, front and hypervolume (null: accuracy alone).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public ObjectivesView? Objectives { get; init; }
}

/// <summary>
/// A search of several objectives: the cost objectives (column names of <see cref="ChildTable"/>:
/// params, multAdds, latencyMs), the bounds, the non-dominated trained children, and the hypervolume
/// after each trained child (children with an outcome by then, seconds since the start).
/// </summary>
public sealed record ObjectivesView(IReadOnlyList<string> Costs, IReadOnlyDictionary<string, double> Bounds, IReadOnlyList<long> Front,
    IReadOnlyList<int> HypervolumeChildren, IReadOnlyList<double> HypervolumeS, IReadOnlyList<double> Hypervolume, string? LatencyDevice);

/// <summary>
/// One rung of early stopping: the values recorded there, the cut the next child must reach to go
/// on (null: every child goes on still), and the children stopped there (the first 50 by id).
/// </summary>
public sealed record RungView(int Bracket, int Epoch, Distribution Values, double? Cut, int Stopped, IReadOnlyList<long> StoppedChildren);

/// <summary>
/// Every sampled child, one column per field, in child-id order (columns keep 20,000 children
/// small in the page). Cells are coded as in <see cref="CellCode"/>; seconds count from the start,
/// to the millisecond; curves are rounded to 6 digits.
/// </summary>
public sealed record ChildTable(
    IReadOnlyList<long> Id,
    IReadOnlyList<string> Status,
    IReadOnlyList<double?> Accuracy,
    IReadOnlyList<double?> FinishedS,
    IReadOnlyList<long?> Params,
    IReadOnlyList<long?> MultAdds,
    IReadOnlyList<int> PolicyVersion,
    IReadOnlyList<double?> RunningBest,
    IReadOnlyList<double?> MovingMean,
    IReadOnlyList<double?> FinalAccuracy,
    IReadOnlyList<double?> FinalTestAccuracy,
    IReadOnlyList<string> Normal,
    IReadOnlyList<string> Reduction,
    IReadOnlyList<int?> StoppedAt,
    IReadOnlyList<double?> RungAccuracy)
{
    /// <summary>Each child's inference latency where it was measured (null: none measured in the run).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<double?>? LatencyMs { get; init; }
}

/// <summary>The children a policy version sampled: their mean reward and the policy's entropy, estimated as their mean -log p.</summary>
public sealed record PolicyPoint(int Version, int Children, int Trained, double? MeanReward, double EntropyEstimate);

/// <summary>How often each op and each input state is chosen, over all trained children and over the best 10%.</summary>
/// <summary>How often each op of the run's space (<see cref="Ops"/>) and each input state was chosen, by all children and by the best.</summary>
public sealed record CellUsage(IReadOnlyList<string> Ops, IReadOnlyList<double> OpAll, IReadOnlyList<double> OpTop, IReadOnlyList<string> Inputs, IReadOnlyList<double> InputAll, IReadOnlyList<double> InputTop, int TopCount);

/// <summary>A ranked child; <see cref="Weights"/>: where its final training's network was kept (a folder on <see cref="WeightsWorker"/>'s machine), null where none was.</summary>
public sealed record TopChild(int Rank, long ChildId, double Accuracy, double? FinalAccuracy, double? FinalTestAccuracy, long Params, long MultAdds, string Normal, string Reduction, string Text,
    string? Weights, string? WeightsWorker);

/// <summary>One attempt at a child on a worker: from assignment to its outcome (null end: still running); <see cref="ResumedEpochs"/>: the epochs it resumed from the child's checkpoint (null: none).</summary>
public sealed record WorkerSpan(int Worker, long ChildId, bool Final, double StartS, double? EndS, string Outcome, int? ResumedEpochs = null);

/// <summary>A worker's device unhealthy: from the check that failed to the one that passed again (null end: still unhealthy).</summary>
public sealed record HealthSpan(int Worker, double StartS, double? EndS, string Reason);

/// <summary>The worker spans by start time, one column per field (see <see cref="ChildTable"/>).</summary>
public sealed record SpanTable(
    IReadOnlyList<int> Worker, IReadOnlyList<long> ChildId, IReadOnlyList<bool> Final, IReadOnlyList<double> StartS, IReadOnlyList<double?> EndS, IReadOnlyList<string> Outcome,
    IReadOnlyList<int?> ResumedEpochs)
{
    public static SpanTable Of(IReadOnlyList<WorkerSpan> spans) => new(
        spans.Select(s => s.Worker).ToList(), spans.Select(s => s.ChildId).ToList(), spans.Select(s => s.Final).ToList(),
        spans.Select(s => s.StartS).ToList(), spans.Select(s => s.EndS).ToList(), spans.Select(s => s.Outcome).ToList(), spans.Select(s => s.ResumedEpochs).ToList());

    [System.Text.Json.Serialization.JsonIgnore]
    public IEnumerable<WorkerSpan> Rows => Worker.Select((w, i) => new WorkerSpan(w, ChildId[i], Final[i], StartS[i], EndS[i], Outcome[i], ResumedEpochs[i]));
}

/// <summary>Failures that share a first line; <see cref="Example"/> is the whole reason of the first (with the command's output, if any).</summary>
public sealed record FailureGroup(string Reason, int Count, IReadOnlyList<long> ChildIds, string Example);

public sealed record RunningNow(long ChildId, bool Final, string Worker, double SinceS, int? Epoch, int? Epochs);

/// <summary>A five-number summary (box plot) of <see cref="Count"/> values.</summary>
public sealed record Distribution(int Count, double Min, double Q1, double Median, double Q3, double Max);

/// <summary>
/// One worker over a run: where it runs (its id is <c>HOST:PID/DEVICE#K</c>), the search children
/// it trained and the final trainings (<see cref="Final"/>), what failed on it, how many of its children were stopped early (at a rung), how many of its
/// attempts were requeued (lost to a dead worker or a restart),
/// what it trains now, when it last reported (null: never), and whether its device is
/// <c>healthy</c> or <c>unhealthy</c> now (with the <see cref="Problem"/> its check found).
/// </summary>
public sealed record WorkerSummary(
    string Worker, string? Machine, int? Process, string? Device, int Trained, int Final, int Failed, int Stopped, int Requeued, long? Training, double BusyS, DateTimeOffset? LastReport,
    string Health, string? Problem, int Resumed, int ResumedEpochs);
