using System.Collections.Immutable;
using System.Text.Json.Serialization;
using NasActors.Protocol.Messages;
using NasActors.Search.Events;
using NasActors.SearchSpace;

namespace NasActors.Search;

public enum JobStatus
{
    Queued,
    Running,
    Trained,
    Failed,

    /// <summary>Stopped early at a rung (see <see cref="IStoppingRule"/>): an outcome, not a failure.</summary>
    Stopped,

    /// <summary>Over one of the run's bounds, measured and never trained: it does not count against the budget.</summary>
    Refused,
}

/// <summary>What a training reported: validation accuracy (the reward), test accuracy for final trainings, sizes, and the epochs its attempt resumed from a checkpoint.</summary>
public sealed record JobOutcome(double Accuracy, double? TestAccuracy, double Loss, long Parameters, long MultAdds, double Seconds, int ResumedEpochs = 0,
    double? LatencyMs = null, string? LatencyDevice = null)
{
    [JsonIgnore] public ChildCosts Costs => new(Parameters, MultAdds, LatencyMs, LatencyDevice);

    /// <summary>A refused child's outcome: its costs, nothing trained.</summary>
    public static JobOutcome Refused(ChildCosts c) => new(0, null, 0, c.Parameters, c.MultAdds, 0, 0, c.LatencyMs, c.LatencyDevice);
}

/// <summary>One training of a child: its search run, or its final retraining. Both have the same life.</summary>
public sealed record TrainingJob(JobStatus Status, string? WorkerId = null, int Attempts = 0, JobOutcome? Outcome = null, string? FailReason = null)
{
    public static readonly TrainingJob Queued = new(JobStatus.Queued);

    [JsonIgnore] public bool Done => Status is JobStatus.Trained or JobStatus.Failed or JobStatus.Stopped or JobStatus.Refused;
}

/// <summary>
/// A child as the events left it: the controller's decisions, its two possible trainings, and
/// what its search training reported at the rungs it reached (null: none, or no early stopping).
/// </summary>
public sealed record ChildRecord(long Id, [property: JsonConverter(typeof(DecisionsJsonConverter))] int[] Decisions, double LogProbability, int PolicyVersion, TrainingJob Search, TrainingJob? Final = null,
    ImmutableList<RungResult>? Rungs = null)
{
    /// <summary>What the child reported at the rung of <paramref name="epoch"/>, if it did.</summary>
    public RungResult? RungAt(int epoch) => Rungs?.FirstOrDefault(r => r.Epoch == epoch);

    /// <summary>The rung it was stopped at (null: not stopped).</summary>
    [JsonIgnore] public RungResult? StoppedAt => Search.Status == JobStatus.Stopped ? Rungs?.LastOrDefault(r => r.Stopped) : null;

    public TrainingJob? Job(bool final) => final ? Final : Search;

    public ChildRecord WithJob(bool final, TrainingJob job) => final ? this with { Final = job } : this with { Search = job };
}

/// <summary>A child (or its final training) on a worker now.</summary>
public readonly record struct RunningJob(long ChildId, bool Final, string WorkerId);

/// <summary>The next job for a worker: the events that assign it (and sample the child, when new).</summary>
public sealed record Assignment(IReadOnlyList<ISearchEvent> Events, long ChildId, bool Final);

/// <summary>
/// One phase's jobs (the search's, or the final training's) by where they are: waiting for a worker
/// (never dispatched, or requeued), oldest first; and in training (child id to worker id).
/// </summary>
public sealed record PhaseJobs(ImmutableSortedSet<long> Waiting, ImmutableSortedDictionary<long, string> Running)
{
    public static readonly PhaseJobs Empty = new([], ImmutableSortedDictionary<long, string>.Empty);

    [JsonIgnore] public bool IsEmpty => Waiting.IsEmpty && Running.IsEmpty;

    /// <summary>The indexes after a job of <paramref name="childId"/> moved to <paramref name="status"/>.</summary>
    public PhaseJobs With(long childId, JobStatus status, string? runningOn) => new(
        status == JobStatus.Queued ? Waiting.Add(childId) : Waiting.Remove(childId),
        status == JobStatus.Running ? Running.SetItem(childId, runningOn!) : Running.Remove(childId));

    /// <summary>The indexes of the jobs given (a stored snapshot holds only the jobs).</summary>
    public static PhaseJobs Of(IEnumerable<(long ChildId, TrainingJob? Job)> jobs)
    {
        // One pass into builders: reading a large run rebuilds these from 20,000 jobs in a fresh process.
        var waiting = ImmutableSortedSet.CreateBuilder<long>();
        var running = ImmutableSortedDictionary.CreateBuilder<long, string>();
        foreach (var (childId, job) in jobs)
        {
            if (job?.Status == JobStatus.Queued) waiting.Add(childId);
            else if (job?.Status == JobStatus.Running) running.Add(childId, job.WorkerId!);
        }
        return new(waiting.ToImmutable(), running.ToImmutable());
    }
}

/// <summary>
/// The search folded from its events, as an immutable value: <see cref="Evolve"/> gives the state
/// after an event, the decide methods (<see cref="NextJob"/>, <see cref="Report"/>, ...) give the
/// events a command causes, and nothing here touches actors or I/O. Being a value, a snapshot of it
/// can never share objects with the state that goes on changing; its stored shape is a contract
/// of its own (<see cref="Snapshots.SearchSnapshot"/>), so this record may change.
/// </summary>
public sealed record SearchState
{
    public static readonly SearchState Empty = new();

    public SearchSettings? Settings { get; init; }
    public int Budget { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }
    public long NextChildId { get; init; }
    public int PolicyVersion { get; init; }
    public int IgnoredResults { get; init; }
    public int Trained { get; init; }
    public int Failed { get; init; }

    /// <summary>Children stopped early at a rung.</summary>
    public int Stopped { get; init; }

    public double? BestAccuracy { get; init; }

    /// <summary>Children refused over a bound, untrained (not counted against the budget).</summary>
    public int Refused { get; init; }

    /// <summary>
    /// The normalising reference of each cost objective (<see cref="ObjectiveSet.Reference"/>): fixed by
    /// the first child whose costs were journaled, null before (and in runs of accuracy alone).
    /// </summary>
    public ImmutableSortedDictionary<string, double>? CostReference { get; init; }

    /// <summary>The run's objectives (null: accuracy alone).</summary>
    [JsonIgnore] public ObjectiveSet? Objectives => ObjectiveSet.For(Settings);

    /// <summary>Every value recorded per rung (empty without early stopping).</summary>
    public RungTables Rungs { get; init; } = RungTables.Empty;

    /// <summary>The evaluator's final-training request for the current budget is in (cleared when the budget grows).</summary>
    public bool FinalQueued { get; init; }

    public ImmutableSortedDictionary<long, ChildRecord> Children { get; init; } = ImmutableSortedDictionary<long, ChildRecord>.Empty;

    /// <summary>The search's jobs waiting and in training (derived from the children, kept as events arrive so asking costs nothing).</summary>
    public PhaseJobs SearchJobs { get; init; } = PhaseJobs.Empty;

    /// <summary>The final training's jobs waiting and in training.</summary>
    public PhaseJobs FinalJobs { get; init; } = PhaseJobs.Empty;

    public PhaseJobs Jobs(bool final) => final ? FinalJobs : SearchJobs;

    /// <summary>Workers whose device computes wrong, with the reason.</summary>
    public ImmutableSortedDictionary<string, string> Unhealthy { get; init; } = ImmutableSortedDictionary<string, string>.Empty;

    [JsonIgnore] public int Sampled => Children.Count;

    [JsonIgnore] public int RunningCount => SearchJobs.Running.Count + FinalJobs.Running.Count;

    [JsonIgnore] public bool SearchCompleted => CompletedAt is not null;

    [JsonIgnore]
    public IEnumerable<RunningJob> RunningJobs =>
        SearchJobs.Running.Select(r => new RunningJob(r.Key, false, r.Value)).Concat(FinalJobs.Running.Select(r => new RunningJob(r.Key, true, r.Value)));

    /// <summary>The budget counts children trained (or failed, or stopped): a refused one is replaced by another.</summary>
    [JsonIgnore] public bool NeedsSampling => Settings is not null && Sampled - Refused < Budget && !RefusedEverything;

    /// <summary>
    /// The bounds refused every child of a long run of samples (<see cref="RefusalLimit"/>) and
    /// nothing else came of the search: it samples no more and completes, rather than refuse for ever.
    /// </summary>
    [JsonIgnore] public bool RefusedEverything => Refused >= RefusalLimit(Budget) && Trained + Failed + Stopped == 0;

    /// <summary>How many refusals in a row, with nothing trained, end a search: 20 per budgeted child, at least 1,000.</summary>
    public static int RefusalLimit(int budget) => Math.Max(1000, 20 * budget);

    /// <summary>Every budgeted child has an outcome (trained, failed or stopped).</summary>
    [JsonIgnore] public bool AllResultsIn => Settings is not null && Trained + Failed + Stopped >= Budget;

    [JsonIgnore] public IEnumerable<ChildRecord> FinalChildren => Children.Values.Where(c => c.Final is not null);

    /// <summary>Search complete and the top K retrained (nothing to retrain when K is 0).</summary>
    [JsonIgnore]
    public bool Finished => SearchCompleted && (Settings!.TopK == 0 || (FinalQueued && FinalJobs.IsEmpty));

    /// <summary>Whether a result for this job would count now: it was handed to a worker and has no outcome (running, or requeued while its worker may still finish it).</summary>
    public bool AwaitsResult(long childId, bool final) =>
        Children.TryGetValue(childId, out var c) && c.Job(final) is { Done: false, Attempts: > 0 };

    public IEnumerable<RunningJob> RunningOn(string workerId) => RunningJobs.Where(j => j.WorkerId == workerId);

    /// <summary>Why the worker's device is unhealthy (null: it is not).</summary>
    public string? UnhealthyReason(string workerId) => Unhealthy.TryGetValue(workerId, out var reason) ? reason : null;

    // ---- evolve: event -> state ----

    /// <summary>The state after <paramref name="evt"/>; an event this state makes impossible throws <see cref="ImpossibleEventException"/>.</summary>
    public SearchState Evolve(ISearchEvent evt) =>
        Invariants.Contradiction(this, evt) is { } why ? throw new ImpossibleEventException(why) : Apply(evt);

    private SearchState Apply(ISearchEvent evt) => evt switch
    {
        SearchStarted e => this with { Settings = e.Settings, Budget = e.Settings.Budget, StartedAt = e.At },
        // A larger budget reopens the search, and its new top K will need their final training.
        BudgetIncreased e => this with { Budget = e.Budget, CompletedAt = null, FinalQueued = false },
        TimeoutsChanged e => this with { Settings = Settings!.WithTimeouts(e.SearchSeconds, e.FinalSeconds) },
        ChildSampled e => this with
        {
            Children = Children.SetItem(e.ChildId, new ChildRecord(e.ChildId, e.Decisions, e.LogProbability, e.PolicyVersion, TrainingJob.Queued)),
            SearchJobs = SearchJobs with { Waiting = SearchJobs.Waiting.Add(e.ChildId) },
            NextChildId = Math.Max(NextChildId, e.ChildId + 1),
        },
        ChildAssigned e => WithJob(e.ChildId, e.Final, new TrainingJob(JobStatus.Running, e.WorkerId, e.Attempt), e.WorkerId),
        ChildTrained e => (WithJob(e.ChildId, false, new TrainingJob(JobStatus.Trained, e.WorkerId, Attempts(e.ChildId, false),
            new JobOutcome(e.Accuracy, null, e.Loss, e.Parameters, e.MultAdds, e.Seconds, e.ResumedEpochs ?? 0, e.LatencyMs, e.LatencyDevice))) with
        {
            Trained = Trained + 1,
            BestAccuracy = BestAccuracy is { } b ? Math.Max(b, e.Accuracy) : e.Accuracy,
        }).Measured(e.Costs),
        ChildRefused e => (WithJob(e.ChildId, false, new TrainingJob(JobStatus.Refused, e.WorkerId, Attempts(e.ChildId, false), JobOutcome.Refused(e.Costs), e.Reason)) with
        {
            Refused = Refused + 1,
        }).Measured(e.Costs),
        ChildFailed e => WithJob(e.ChildId, false, new TrainingJob(JobStatus.Failed, e.WorkerId, Attempts(e.ChildId, false), FailReason: e.Reason)) with
        {
            Failed = Failed + 1,
        },
        ChildReachedRung e => ReachedRung(e),
        ChildRequeued e => WithJob(e.ChildId, e.Final, Children[e.ChildId].Job(e.Final)! with { Status = JobStatus.Queued }),
        ResultIgnored => this with { IgnoredResults = IgnoredResults + 1 },
        PolicyUpdated e => this with { PolicyVersion = e.Version },
        WorkerUnhealthy e => this with { Unhealthy = Unhealthy.SetItem(e.WorkerId, e.Reason) },
        WorkerRecovered e => this with { Unhealthy = Unhealthy.Remove(e.WorkerId) },
        SearchCompleted e => this with { CompletedAt = e.At },
        FinalTrainingQueued e => e.ChildIds.Aggregate(this with { FinalQueued = true }, (s, id) => s.WithJob(id, true, TrainingJob.Queued)),
        FinalTrainingCompleted e => WithJob(e.ChildId, true, new TrainingJob(JobStatus.Trained, e.WorkerId, Attempts(e.ChildId, true),
            new JobOutcome(e.Accuracy, e.TestAccuracy, e.Loss, e.Parameters, e.MultAdds, e.Seconds, e.ResumedEpochs ?? 0))),
        FinalTrainingFailed e => WithJob(e.ChildId, true, new TrainingJob(JobStatus.Failed, e.WorkerId, Attempts(e.ChildId, true), FailReason: e.Reason)),
        _ => throw new InvalidOperationException($"not a search event: {evt.GetType().Name}"),
    };

    /// <summary>Why this state, restored from a stored snapshot, cannot be one its events made (null: it can).</summary>
    public string? Unrestorable() => Invariants.Restored(this);

    public static SearchState Fold(IEnumerable<object> events, SearchState? from = null) =>
        events.Aggregate(from ?? Empty, (s, e) => s.Evolve(e as ISearchEvent ?? throw new InvalidOperationException($"not a search event: {e.GetType().Name}")));

    private SearchState ReachedRung(ChildReachedRung e)
    {
        var child = Children[e.ChildId];
        var key = Stopping!.RungOf(e.ChildId, e.Epoch);
        var state = (this with
        {
            Children = Children.SetItem(e.ChildId, child with { Rungs = (child.Rungs ?? []).Add(new RungResult(e.Epoch, e.Accuracy, e.Stopped, e.EpochsTrained, e.Costs)) }),
            Rungs = Rungs.With(key, e.Accuracy, e.ChildId, Objectives?.RungPoint(e.Accuracy, e.Costs)),
        }).Measured(e.Costs);
        // The worker whose report stopped it, as a result names the worker that trained it (a requeued child may be on another by now).
        return e.Stopped ? state.WithJob(e.ChildId, false, child.Search with { Status = JobStatus.Stopped, WorkerId = e.WorkerId }) with { Stopped = Stopped + 1 } : state;
    }

    /// <summary>The state with its cost reference fixed by <paramref name="costs"/>, when it is the first child's to be journaled.</summary>
    private SearchState Measured(ChildCosts? costs) =>
        CostReference is null && costs is not null && Objectives is { } o && o.Reference(costs) is { } reference ? this with { CostReference = reference } : this;

    private int Attempts(long childId, bool final) => Children[childId].Job(final)?.Attempts ?? 0;

    /// <summary>The state with one job replaced, and its phase's indexes following its status.</summary>
    private SearchState WithJob(long childId, bool final, TrainingJob job, string? runningOn = null)
    {
        var jobs = Jobs(final).With(childId, job.Status, runningOn);
        var children = Children.SetItem(childId, Children[childId].WithJob(final, job));
        return final ? this with { Children = children, FinalJobs = jobs } : this with { Children = children, SearchJobs = jobs };
    }

    // ---- decide: command -> events ----

    /// <summary>The events that assign the next job to a worker (sampling a new child through <paramref name="sample"/> if needed), or null.</summary>
    public Assignment? NextJob(string workerId, Func<long, ChildSampled> sample)
    {
        if (UnhealthyReason(workerId) is not null) return null;
        if (!SearchJobs.Waiting.IsEmpty)
            return new([new ChildAssigned(SearchJobs.Waiting.Min, false, workerId, Children[SearchJobs.Waiting.Min].Search.Attempts + 1)], SearchJobs.Waiting.Min, false);
        if (NeedsSampling)
        {
            var sampled = sample(NextChildId);
            return new([sampled, new ChildAssigned(sampled.ChildId, false, workerId, 1)], sampled.ChildId, false);
        }
        if (!FinalJobs.Waiting.IsEmpty)
            return new([new ChildAssigned(FinalJobs.Waiting.Min, true, workerId, Children[FinalJobs.Waiting.Min].Final!.Attempts + 1)], FinalJobs.Waiting.Min, true);
        return null;
    }

    /// <summary>Everything assigned to a worker goes back to the queue.</summary>
    public IReadOnlyList<ISearchEvent> Requeue(string workerId, string reason) =>
        RunningOn(workerId).Select(j => (ISearchEvent)new ChildRequeued(j.ChildId, j.Final, reason)).ToList();

    /// <summary>
    /// A worker's device failed its kernel check: it is marked unhealthy (once per episode) and
    /// whatever it was training goes back to the queue.
    /// </summary>
    public IReadOnlyList<ISearchEvent> MarkUnhealthy(string workerId, string reason) =>
        UnhealthyReason(workerId) is not null ? [] : [new WorkerUnhealthy(workerId, reason), .. Requeue(workerId, "the worker's device is unhealthy")];

    /// <summary>A worker's device passed its kernel check: recovered if it was unhealthy.</summary>
    public IReadOnlyList<ISearchEvent> MarkHealthy(string workerId) =>
        UnhealthyReason(workerId) is null ? [] : [new WorkerRecovered(workerId)];

    /// <summary>
    /// After a (re)start, once workers have had their chance to say what they are still training:
    /// every running job whose worker is not among <paramref name="claimed"/> goes back to the queue.
    /// </summary>
    public IReadOnlyList<ISearchEvent> RequeueUnclaimed(IReadOnlySet<string> claimed, string reason) =>
        RunningJobs.Where(j => !claimed.Contains(j.WorkerId)).Select(j => (ISearchEvent)new ChildRequeued(j.ChildId, j.Final, reason)).ToList();

    /// <summary>Why a result that arrives again is ignored (its first arrival is stored).</summary>
    public const string AlreadyRecorded = "result already recorded";

    /// <summary>
    /// A worker's report: the events to record. A search training's rungs that were never decided
    /// (their answer lost to a coordinator that moved or a database outage) are decided first, from
    /// the values the report carries, in journal order with every other decision; a stop there is
    /// the child's outcome, whatever it trained after. A repeated, late or unknown report is one
    /// <see cref="ResultIgnored"/> (recorded, never counted twice).
    /// </summary>
    public IReadOnlyList<ISearchEvent> Report(WorkerReport report)
    {
        if (!AwaitsResult(report.ChildId, report.Final))
            return [new ResultIgnored(report.ChildId, report.Final, report.WorkerId,
                !Children.TryGetValue(report.ChildId, out var child) ? "unknown child"
                : child.Job(report.Final) is { Done: true } ? AlreadyRecorded
                : "never assigned")];
        // A device found computing wrong gives no reward until it passes its check again.
        if (UnhealthyReason(report.WorkerId) is { } unhealthy)
            return [new ResultIgnored(report.ChildId, report.Final, report.WorkerId, $"the worker's device is unhealthy: {unhealthy}")];
        var rungs = LateRungs(report);
        if (rungs is [.., { Stopped: true }]) return rungs;
        ISearchEvent outcome = (report, report.Final) switch
        {
            (ChildResult r, false) => new ChildTrained(r.ChildId, r.WorkerId, r.Accuracy, r.Loss, r.Parameters, r.MultAdds, r.Seconds, r.ResumedEpochs)
            {
                LatencyMs = r.Costs?.LatencyMs, LatencyDevice = r.Costs?.LatencyDevice,
            },
            // Judged again here, by the run's own bounds: only a child over one is refused.
            (ChildRefusal r, false) => r.Measured.Exceeded(Settings!.Constraints) is { Count: > 0 } over
                ? new ChildRefused(r.ChildId, r.WorkerId, r.Measured, $"over its bounds: {string.Join(", ", over)}")
                : new ChildFailed(r.ChildId, r.WorkerId, "refused by its worker within the run's bounds (a worker with other bounds?)"),
            (ChildResult r, true) => new FinalTrainingCompleted(r.ChildId, r.WorkerId, r.Accuracy, r.TestAccuracy, r.Loss, r.Parameters, r.MultAdds, r.Seconds, r.ResumedEpochs, r.Weights),
            (ChildFailure f, false) => new ChildFailed(f.ChildId, f.WorkerId, f.Reason),
            (ChildFailure f, true) => new FinalTrainingFailed(f.ChildId, f.WorkerId, f.Reason),
            _ => throw new InvalidOperationException($"not a worker report: {report.GetType().Name}"),
        };
        return [.. rungs, outcome];
    }

    /// <summary>The decisions a search report brings for its rungs never decided (see <see cref="DecideRungs"/>).</summary>
    private IReadOnlyList<ChildReachedRung> LateRungs(WorkerReport report) =>
        report.Final || report.Rungs is not { Count: > 0 } values
            ? []
            // A trained child ran its whole budget; a failed one at least to the last rung it measured.
            : DecideRungs(report.WorkerId, report.ChildId, values, int.MaxValue, report is ChildResult ? Settings!.Search.Epochs : values.Max(v => v.Epoch),
                report is ChildResult r ? r.Costs ?? new ChildCosts(r.Parameters, r.MultAdds) : report.Costs);

    /// <summary>
    /// Decisions for a child's rungs up to <paramref name="upTo"/> that are not decided yet, from the
    /// values its worker measured, in epoch order, each against the tables as the ones before it left
    /// them; the list ends at a stop (<paramref name="trainedEpochs"/>: what it had trained by then,
    /// when more than the rung). A rung without a finite value stays undecided (a trainer that
    /// measured none there).
    /// </summary>
    private IReadOnlyList<ChildReachedRung> DecideRungs(string workerId, long childId, IReadOnlyList<RungValue> values, int upTo, int? trainedEpochs, ChildCosts? costs)
    {
        if (Stopping is not { } rule) return [];
        var decided = new List<ChildReachedRung>();
        var state = this;
        // A search of several objectives compares accuracy with cost at a rung (costs are known before training); accuracy alone otherwise.
        var objectives = Objectives;
        if (objectives is null) costs = null;
        foreach (var epoch in rule.RungEpochs(childId).Where(e => e <= upTo))
        {
            if (state.Children[childId].RungAt(epoch) is not null
                || values.FirstOrDefault(v => v.Epoch == epoch) is not { Accuracy: var accuracy } || !double.IsFinite(accuracy)) continue;
            var rung = rule.RungOf(childId, epoch);
            var goesOn = objectives?.RungPoint(accuracy, costs) is { } point
                ? rule.Continues(state.Rungs.PointsAt(rung), point)
                : rule.Continues(state.Rungs.At(rung), accuracy);
            var decision = new ChildReachedRung(childId, workerId, epoch, accuracy, !goesOn, goesOn || trainedEpochs <= epoch ? null : trainedEpochs) { Costs = costs };
            decided.Add(decision);
            if (!goesOn) break;
            state = state.Evolve(decision);
        }
        return decided;
    }

    /// <summary>The rung epochs of a child's search training (null without early stopping).</summary>
    public IReadOnlyList<int>? RungEpochs(long childId) => Stopping?.RungEpochs(childId);

    /// <summary>The run's early-stopping rule (null: it stops no child early).</summary>
    [JsonIgnore] public IStoppingRule? Stopping => StoppingRules.For(Settings);

    /// <summary>
    /// A worker's child reached a rung: the decisions to journal (empty when there is nothing new to
    /// record), and whether the child must stop. The report carries the values of every rung the
    /// child has reached, so a rung whose answer was lost (a coordinator that moved, a database
    /// outage) is decided before a later one, in epoch order. A rung already decided answers as it
    /// was decided; a child done, or running on another worker, stops (its outcome would not count);
    /// a queued one, an epoch that is no rung, goes on unjudged.
    /// </summary>
    public (IReadOnlyList<ChildReachedRung> Decisions, bool Stop) ReachRung(RungReached report)
    {
        if (Stopping is not { } rule || !Children.TryGetValue(report.ChildId, out var child)) return ([], false);
        if (child.RungAt(report.Epoch) is { } decided) return ([], decided.Stopped);
        // Requeued while its worker still trains it (a claim that came late): its result would still count.
        if (child.Search.Status == JobStatus.Queued) return ([], false);
        if (child.Search.Status != JobStatus.Running || child.Search.WorkerId != report.WorkerId) return ([], true);
        if (!rule.RungEpochs(report.ChildId).Contains(report.Epoch) || UnhealthyReason(report.WorkerId) is not null) return ([], false);
        var values = report.Rungs ?? [];
        if (!values.Any(v => v.Epoch == report.Epoch)) values = [.. values, new RungValue(report.Epoch, report.Accuracy)];
        var decisions = DecideRungs(report.WorkerId, report.ChildId, values, report.Epoch, report.Epoch, report.Costs);
        return (decisions, decisions is [.., { Stopped: true }]);
    }

    /// <summary>The job a worker is sent for a child's training (its network, seed, attempt, budget and rungs).</summary>
    public TrainChild TrainChild(long childId, bool final) =>
        new(childId, Genotype(childId), final, Settings!.ChildSeed(childId), Children[childId].Job(final)!.Attempts,
            final ? Settings.Final : Settings.Search, final ? null : RungEpochs(childId))
        {
            Costs = final ? null : Objectives?.Request,
        };

    /// <summary>A child's cells, decoded from its decisions in the run's space: the one place a child's genotype comes from.</summary>
    public Genotype Genotype(long childId) => Settings!.Decisions.Decode(Children[childId].Decisions);

    /// <summary>
    /// The evaluator's request to retrain the top K: recorded once per budget, even empty (nothing
    /// trained means nothing to retrain); children already retrained are not retrained again.
    /// </summary>
    public IReadOnlyList<ISearchEvent> QueueFinal(IEnumerable<long> childIds) =>
        !SearchCompleted || FinalQueued
            ? []
            : [new FinalTrainingQueued(childIds.Distinct().Where(id => Children.TryGetValue(id, out var c) && c.Search.Status == JobStatus.Trained && c.Final is null).ToList())];

    /// <summary>
    /// When a coordinator (re)starts on this state: a new search starts with <paramref name="requested"/>;
    /// a stored one takes the requested time limits, grows to a larger requested budget, and
    /// completes if its results are all in.
    /// </summary>
    public IReadOnlyList<ISearchEvent> Resume(SearchSettings? requested, DateTimeOffset now)
    {
        if (Settings is null) return requested is null ? [] : [new SearchStarted(requested, now)];
        if (requested is null) return Completion(now);
        var events = new List<ISearchEvent>();
        if (requested.Timeouts != Settings.Timeouts) events.Add(new TimeoutsChanged(requested.Timeouts.Search, requested.Timeouts.Final));
        if (requested.Budget > Budget) events.Add(new BudgetIncreased(requested.Budget));
        return [.. events, .. Fold(events, this).Completion(now)];
    }

    public IReadOnlyList<ISearchEvent> Completion(DateTimeOffset now) =>
        (AllResultsIn || (RefusedEverything && SearchJobs.IsEmpty)) && !SearchCompleted ? [new SearchCompleted(Trained, Failed, BestAccuracy, now)] : [];
}
