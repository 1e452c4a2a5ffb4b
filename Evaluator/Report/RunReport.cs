using NasActors.Persistence;

namespace NasActors.Evaluator.Report;

/// <summary>What a report page shows: one or more runs, as of <see cref="GeneratedAt"/>.</summary>
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
    IReadOnlyList<WorkerSpan> Timeline,
    IReadOnlyList<FailureGroup> Failures,
    IReadOnlyList<RunningNow> Running,
    Distribution? TopAccuracies);

/// <summary>
/// Every sampled child, one column per field, in child-id order (columns keep 20,000 children
/// small in the page). Cells are coded as in <see cref="CellCode"/>; seconds count from the start.
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
    IReadOnlyList<string> Reduction);

/// <summary>The children a policy version sampled: their mean reward and the policy's entropy, estimated as their mean -log p.</summary>
public sealed record PolicyPoint(int Version, int Children, int Trained, double? MeanReward, double EntropyEstimate);

/// <summary>How often each op and each input state is chosen, over all trained children and over the best 10%.</summary>
public sealed record CellUsage(IReadOnlyList<double> OpAll, IReadOnlyList<double> OpTop, IReadOnlyList<string> Inputs, IReadOnlyList<double> InputAll, IReadOnlyList<double> InputTop, int TopCount);

public sealed record TopChild(int Rank, long ChildId, double Accuracy, double? FinalAccuracy, double? FinalTestAccuracy, long Params, long MultAdds, string Normal, string Reduction, string Text);

/// <summary>One attempt at a child on a worker: from assignment to its outcome (null end: still running).</summary>
public sealed record WorkerSpan(int Worker, long ChildId, bool Final, double StartS, double? EndS, string Outcome);

public sealed record FailureGroup(string Reason, int Count, IReadOnlyList<long> ChildIds);

public sealed record RunningNow(long ChildId, bool Final, string Worker, double SinceS, int? Epoch, int? Epochs);

/// <summary>A five-number summary (box plot) of <see cref="Count"/> values.</summary>
public sealed record Distribution(int Count, double Min, double Q1, double Median, double Q3, double Max);
