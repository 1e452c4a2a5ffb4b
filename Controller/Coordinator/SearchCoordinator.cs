using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using NasActors.Controller.Strategies;
using NasActors.Protocol.Messages;
using NasActors.Persistence;
using NasActors.Persistence.Snapshots;
using NasActors.Search;
using NasActors.Search.Events;
using NasActors.SearchSpace;

namespace NasActors.Controller.Coordinator;

/// <summary>
/// The search coordinator (a cluster singleton). Its state is the immutable <see cref="SearchState"/>,
/// which decides what each command means as events; this actor only persists them, folds them
/// into its <see cref="SearchModel"/> (the state and the strategy the events drive) and replies.
/// Lifecycle: waiting for a search (started by another node) → active → completed, each an
/// explicit behaviour. Recovery replays events into the model, which is deterministic, so it ends
/// exactly where it was.
/// </summary>
public sealed class SearchCoordinator : ReceivePersistentActor, IWithTimers
{
    private readonly SearchSettings? requested;
    private readonly PersistenceIds ids;
    private readonly IActorRef? host;
    private readonly ILoggingAdapter log = Context.GetLogger();
    private readonly Dictionary<string, IActorRef> workers = new();
    private readonly Dictionary<long, (int Epoch, int Epochs)> progress = new();
    private readonly SearchModel model;
    private int eventsSinceSnapshot;
    private int updatesSinceSnapshot;
    private readonly int snapshotAfterUpdates = Context.System.Settings.Config.GetInt("nas.coordinator.snapshot-after-policy-updates", 20);
    // Made once the run's settings are known; they do not change over a run.
    private SnapshotCadence? cadence;
    private int inFlight;
    private bool updating;
    private bool announcedFinished;

    // Snapshot saves and deletions under way: a finished run is stopped only once they are done,
    // so that it leaves one snapshot, not the latest beside the one it replaced.
    private readonly HashSet<(string Kind, long SequenceNr)> snapshotWork = [];

    /// <summary>A computed policy update, for the incarnation and policy version it was prepared from.</summary>
    private sealed record UpdateComputed(Guid Incarnation, int FromVersion, byte[] Weights);

    private sealed record UpdateFailed(Guid Incarnation, Exception Cause);

    /// <summary>The end of the grace period after recovery in which workers claim what they still train.</summary>
    private sealed record ClaimsClosed;

    /// <summary>The end of the grace period after recovery in which workers repeat reports whose acknowledgement the restart lost.</summary>
    private sealed record RepeatsOver;

    // Results reported again in that period that were already stored: said once, not once each.
    private int repeatedAfterStart;

    public ITimerScheduler Timers { get; set; } = null!;

    // A restart keeps Self: an update still computing from before it must not be installed after it.
    private readonly Guid incarnation = Guid.NewGuid();

    /// <param name="requested">The settings to start a new search with (null: follow whatever the journal holds).</param>
    /// <param name="createStrategy">Makes the strategy from the settings and its saved bytes (default: <see cref="StrategyCatalog.ForSearch"/>).</param>
    /// <param name="ids">The run's persistence ids (default: a run folder's).</param>
    /// <param name="host">Told when the run is finished and stored (<see cref="SearchFinished"/>).</param>
    public SearchCoordinator(SearchSettings? requested, Func<SearchSettings, byte[]?, ISearchStrategy>? createStrategy = null, PersistenceIds? ids = null,
        IActorRef? host = null)
    {
        this.requested = requested;
        this.ids = ids ?? PersistenceIds.Folder;
        this.host = host;
        model = new SearchModel(createStrategy ?? StrategyCatalog.ForSearch);
        Recover<SnapshotOffer>(offer => model.Restore((ISearchSnapshot)offer.Snapshot));
        Recover<ISearchEvent>(Replay);
        Recover<RecoveryCompleted>(_ => AfterRecovery());
        Waiting();
    }

    public override string PersistenceId => ids.CoordinatorId;

    public static Props Props(SearchSettings? requested, Func<SearchSettings, byte[]?, ISearchStrategy>? createStrategy = null, PersistenceIds? ids = null,
        IActorRef? host = null) =>
        Akka.Actor.Props.Create(() => new SearchCoordinator(requested, createStrategy, ids, host));

    // ---- behaviours ----

    /// <summary>No search in the journal yet: workers wait.</summary>
    private void Waiting()
    {
        Common();
        Command<RequestWork>(_ => Sender.Tell(new NoWork(false)));
        Command<WorkerReport>(r => Sender.Tell(new ResultRecorded(r.ChildId, r.Final)));
        Command<QueueFinalTraining>(_ => { });
    }

    private void Active()
    {
        Common();
        Command<RequestWork>(r => Dispatch(r.WorkerId, Sender));
        Command<WorkerReport>(OnReport);
        Command<RungReached>(OnRungReached);
        Command<QueueFinalTraining>(q => PersistMany(model.State.QueueFinal(q.ChildIds)));
    }

    /// <summary>Search and final training done: reports can only be late, and there is no more work.</summary>
    private void Completed()
    {
        Common();
        Command<RequestWork>(r =>
        {
            Register(r.WorkerId, Sender);
            Sender.Tell(new NoWork(true));
        });
        Command<WorkerReport>(OnReport);
        Command<RungReached>(OnRungReached);
        Command<QueueFinalTraining>(_ => { });
    }

    /// <summary>What every behaviour answers the same way.</summary>
    private void Common()
    {
        Command<RegisterWorker>(r =>
        {
            Register(r.WorkerId, Sender);
            Sender.Tell(new WorkerRegistered(r.WorkerId));
        });
        // Only for a job running on that worker: a stopped child trains on until its worker hears so.
        Command<ChildProgress>(p =>
        {
            if (model.State.Children.TryGetValue(p.ChildId, out var c) && c.Job(p.Final) is { Status: JobStatus.Running } job && job.WorkerId == p.WorkerId)
                progress[p.ChildId] = (p.Epoch, p.Epochs);
        });
        // A live worker still training its child: known (and watched) from now on, its child stays with it.
        Command<StillTraining>(c => Register(c.WorkerId, Sender));
        Command<ClaimsClosed>(_ => PersistMany(model.State.RequeueUnclaimed(workers.Keys.ToHashSet(), "not claimed by a live worker after the coordinator restarted")));
        Command<RepeatsOver>(_ =>
        {
            if (repeatedAfterStart > 0)
                log.Info($"{repeatedAfterStart} result(s) reported again after the coordinator started had been stored before it (their acknowledgements were lost in the restart or hand-over): " +
                         "recorded as result-ignored, none counted twice; nothing to do");
        });
        Command<GetSearchStatus>(_ => Sender.Tell(Status()));
        Command<UpdateComputed>(u => u.Incarnation == incarnation && u.FromVersion == model.Strategy?.PolicyVersion, OnUpdateComputed);
        Command<UpdateComputed>(_ => { });
        // Restart and recover: the update is recomputed from the journal, deterministically.
        Command<UpdateFailed>(f => f.Incarnation == incarnation, f => throw new InvalidOperationException("policy update failed", f.Cause));
        Command<UpdateFailed>(_ => { });
        Command<Terminated>(t => OnWorkerGone(t.ActorRef));
        Command<DeviceUnhealthy>(u =>
        {
            Register(u.WorkerId, Sender);
            if (model.State.UnhealthyReason(u.WorkerId) is null)
                log.Warning("{0}: device unhealthy, it takes no work until it passes its check again: {1}", u.WorkerId, u.Reason);
            // Before the search starts there is no journal to hold it: no answer, so the worker says it again.
            if (model.State.Settings is not null) RecordHealth(u.WorkerId, healthy: false, model.State.MarkUnhealthy(u.WorkerId, u.Reason));
        });
        Command<DeviceHealthy>(h =>
        {
            Register(h.WorkerId, Sender);
            var events = model.State.MarkHealthy(h.WorkerId);
            if (events.Count > 0) log.Warning("{0}: device passed its check again and takes work", h.WorkerId);
            RecordHealth(h.WorkerId, healthy: true, events);
        });
        Command<SaveSnapshotSuccess>(s =>
        {
            var older = new SnapshotSelectionCriteria(s.Metadata.SequenceNr - 1);
            snapshotWork.Add(("delete", older.MaxSequenceNr));
            DeleteSnapshots(older);
            SnapshotWorkDone(("save", s.Metadata.SequenceNr));
        });
        Command<SaveSnapshotFailure>(f =>
        {
            log.Warning("snapshot failed (events are safe, recovery will replay more): {0}", f.Cause.Message);
            SnapshotWorkDone(("save", f.Metadata.SequenceNr));
        });
        Command<DeleteSnapshotsSuccess>(d => SnapshotWorkDone(("delete", d.Criteria.MaxSequenceNr)));
        Command<DeleteSnapshotsFailure>(f =>
        {
            log.Warning("old snapshots not deleted: {0}", f.Cause.Message);
            SnapshotWorkDone(("delete", f.Criteria.MaxSequenceNr));
        });
    }

    private enum Phase { Waiting, Active, Completed }

    private Phase phase = Phase.Waiting;

    /// <summary>Switches behaviour when the state has moved to another phase (a larger budget reopens a completed search).</summary>
    private void BecomeForState()
    {
        var next = model.State.Settings is null ? Phase.Waiting : model.State.Finished ? Phase.Completed : Phase.Active;
        if (next == phase) return;
        phase = next;
        Become(next switch { Phase.Active => Active, Phase.Completed => Completed, _ => Waiting });
    }

    // ---- recovery ----

    private void Replay(ISearchEvent evt)
    {
        if (model.Replay(evt) is { } disagreement) log.Warning(disagreement);
        // What a crash before the next snapshot would replay again.
        eventsSinceSnapshot++;
        if (evt is PolicyUpdated) updatesSinceSnapshot++;
    }

    private void AfterRecovery()
    {
        if (model.State.Settings is null && requested is not null)
            PersistMany([new SearchStarted(requested, DateTimeOffset.UtcNow)]);
        else if (model.State.Settings is not null)
        {
            var grace = Context.System.Settings.Config.GetTimeSpan("nas.coordinator.claim-grace", TimeSpan.FromSeconds(5));
            Timers.StartSingleTimer("repeats", new RepeatsOver(), grace);
            if (model.State.RunningCount > 0)
            {
                log.Warning($"search resumed at event {LastSequenceNr}: {model.State.Trained} trained, {model.State.Failed} failed of {model.State.Budget}; " +
                            $"{model.State.RunningCount} children were on workers: those no live worker claims within {grace.TotalSeconds:F0} s go back to the queue");
                // No worker is known after a (re)start. Live workers say what they still train
                // (StillTraining); only what nobody claims is trained again, so a restart or a move
                // of the coordinator does not retrain every running child.
                Timers.StartSingleTimer("claims", new ClaimsClosed(), grace);
            }
            if (requested is not null && requested.Budget > model.State.Budget)
                PersistMany([new BudgetIncreased(requested.Budget)]);
            PersistMany(model.State.Completion(DateTimeOffset.UtcNow));
            StartUpdate();
        }
        BecomeForState();
        AnnounceWhenFinished();
    }

    // ---- policy updates ----

    /// <summary>Computes the next pending policy update on the thread pool; the loop goes on meanwhile.</summary>
    private void StartUpdate()
    {
        if (updating || model.Strategy is not { HasPendingUpdate: true }) return;
        updating = true;
        var compute = model.Strategy.PrepareUpdate();
        var (me, from) = (incarnation, model.Strategy.PolicyVersion);
        Task.Run(compute).PipeTo(Self, success: w => new UpdateComputed(me, from, w), failure: e => new UpdateFailed(me, e));
    }

    private void OnUpdateComputed(UpdateComputed u)
    {
        model.Strategy!.ApplyUpdate(u.Weights);
        PersistMany([new PolicyUpdated(model.Strategy.PolicyVersion, model.State.Trained + model.State.Failed)], () =>
        {
            updatesSinceSnapshot++;
            updating = false;
            StartUpdate();
            AnnounceWhenFinished();
        });
    }

    // ---- workers ----

    private void Register(string workerId, IActorRef worker)
    {
        if (workers.TryGetValue(workerId, out var known) && !known.Equals(worker))
        {
            // Same id, new actor: the worker restarted and lost what it was training.
            Context.Unwatch(known);
            PersistMany(model.State.Requeue(workerId, "worker restarted"));
        }
        workers[workerId] = worker;
        Context.Watch(worker);
    }

    /// <summary>
    /// Stores a worker's health (nothing when unchanged) and acknowledges it once stored: also when
    /// unchanged, only after the writes in flight (an earlier write of this very change may yet fail).
    /// </summary>
    private void RecordHealth(string workerId, bool healthy, IReadOnlyList<ISearchEvent> events)
    {
        var sender = Sender;
        var recorded = new DeviceHealthRecorded(workerId, healthy);
        if (events.Count == 0) DeferAsync(recorded, r => sender.Tell(r));
        else PersistMany(events, () => sender.Tell(recorded));
    }

    private void OnWorkerGone(IActorRef worker)
    {
        var id = workers.FirstOrDefault(w => w.Value.Equals(worker)).Key;
        if (id is null) return;
        workers.Remove(id);
        PersistMany(model.State.Requeue(id, "worker gone"));
    }

    private void Dispatch(string workerId, IActorRef worker)
    {
        Register(workerId, worker);
        // A worker asking for work is idle: anything still assigned to it was lost on the way.
        PersistMany(model.State.Requeue(workerId, "worker idle while assigned"));
        if (model.State.NextJob(workerId, model.Sample) is { } job)
            PersistMany(job.Events, () => Send(worker, job.ChildId, job.Final));
        else
            worker.Tell(new NoWork(model.State.Finished));
    }

    /// <summary>
    /// One path for every report, trained or failed: the outcome (or <see cref="ResultIgnored"/>)
    /// and the reporting worker's next assignment go to the journal in one write, one round trip
    /// per child, which is what dispatch latency is made of. The outcome is folded (and the
    /// strategy learns from it) before the write, in journal order, so the next job already comes
    /// from what it taught; should the write fail, the actor restarts and recovers only what was stored.
    /// </summary>
    private void OnReport(WorkerReport report)
    {
        var sender = Sender;
        var outcome = model.State.Report(report);
        if (outcome is ResultIgnored ignored)
        {
            if (ignored.Reason == SearchState.AlreadyRecorded && Timers.IsTimerActive("repeats")) repeatedAfterStart++;
            PersistMany([outcome], () => sender.Tell(new ResultRecorded(report.ChildId, report.Final)));
            return;
        }
        progress.Remove(report.ChildId);
        if (report is ChildFailure f)
            log.Warning("child {0}{1} failed on {2}: {3}", f.ChildId, f.Final ? " (final)" : "", f.WorkerId, f.Reason);
        Register(report.WorkerId, sender);
        model.Evolve(outcome);
        var next = model.State.NextJob(report.WorkerId, model.Sample);
        var events = next is null ? (IReadOnlyList<ISearchEvent>)[] : next.Events;
        PersistApplied([outcome], events, () =>
        {
            sender.Tell(new ResultRecorded(report.ChildId, report.Final, JobFollows: next is not null));
            if (next is not null) Send(sender, next.ChildId, next.Final);
            PersistMany(model.State.Completion(DateTimeOffset.UtcNow));
        });
        StartUpdate();
    }

    /// <summary>
    /// A child at a rung: the decision is journaled with its value before the worker hears it, so a
    /// resumed or handed-over coordinator answers the same; a rung already decided is answered as it
    /// was, once what is in flight is stored. A stopped child is an outcome, as a result is: the
    /// strategy learns from it (before the next proposal), and the worker's next job goes to the
    /// journal in the same write and follows the answer (one round trip per stopped child).
    /// </summary>
    private void OnRungReached(RungReached r)
    {
        var sender = Sender;
        var (decision, stop) = model.State.ReachRung(r.WorkerId, r.ChildId, r.Epoch, r.Accuracy);
        if (decision is null)
        {
            DeferAsync(new RungDecided(r.ChildId, r.Epoch, stop), a => sender.Tell(a));
            return;
        }
        if (!stop)
        {
            PersistMany([decision], () => sender.Tell(new RungDecided(r.ChildId, r.Epoch, false)));
            return;
        }
        progress.Remove(r.ChildId);
        Register(r.WorkerId, sender);
        model.Evolve(decision);
        var next = model.State.NextJob(r.WorkerId, model.Sample);
        PersistApplied([decision], next?.Events ?? [], () =>
        {
            sender.Tell(new RungDecided(r.ChildId, r.Epoch, true, JobFollows: next is not null));
            if (next is not null) Send(sender, next.ChildId, next.Final);
            PersistMany(model.State.Completion(DateTimeOffset.UtcNow));
        });
        StartUpdate();
    }

    private void Send(IActorRef worker, long id, bool final)
    {
        var child = model.State.Children[id];
        var s = model.State.Settings!;
        worker.Tell(new TrainChild(id, s.Decisions.Decode(child.Decisions), final, s.ChildSeed(id), child.Job(final)!.Attempts, final ? s.Final : s.Search,
            final ? null : model.State.RungEpochs(id)));
    }

    // ---- persistence ----

    private void PersistMany(IReadOnlyList<ISearchEvent> events, Action? after = null) => PersistApplied([], events, after);

    /// <summary>
    /// Writes <paramref name="applied"/> (already folded into the state) and <paramref name="events"/>
    /// (folded now) in one write, so the next command already sees them (no job is handed out
    /// twice); <paramref name="after"/> (the replies) runs once they are stored. The actor keeps
    /// working while writes are in flight, so the journal commits many workers' writes together.
    /// Should a write fail, the actor stops, restarts, and recovers only what was stored.
    /// </summary>
    private void PersistApplied(IReadOnlyList<ISearchEvent> applied, IReadOnlyList<ISearchEvent> events, Action? after)
    {
        if (applied.Count + events.Count == 0)
        {
            after?.Invoke();
            return;
        }
        foreach (var e in events) model.Evolve(e);
        inFlight++;
        var left = applied.Count + events.Count;
        PersistAllAsync([.. applied, .. events], _ =>
        {
            eventsSinceSnapshot++;
            if (--left > 0) return;
            inFlight--;
            after?.Invoke();
            MaybeSnapshot();
            BecomeForState();
            AnnounceWhenFinished();
        });
    }

    /// <summary>Tells the host, once per completion, that the run is finished with everything stored (<see cref="SearchFinished"/>).</summary>
    private void AnnounceWhenFinished()
    {
        // Reopened by a grown budget: its next completion is told again.
        if (!model.State.Finished) announcedFinished = false;
        if (announcedFinished || !model.State.Finished || !AllStored) return;
        announcedFinished = true;
        host?.Tell(new SearchFinished(Status()));
    }

    private void MaybeSnapshot()
    {
        // Only when nothing is in flight does the state hold exactly what the journal holds.
        if (inFlight > 0 || model.Strategy is null) return;
        cadence ??= new SnapshotCadence(model.State.Settings!.SnapshotEvery, snapshotAfterUpdates);
        if (!cadence.Due(eventsSinceSnapshot, updatesSinceSnapshot, model.State.Sampled)) return;
        eventsSinceSnapshot = 0;
        updatesSinceSnapshot = 0;
        snapshotWork.Add(("save", LastSequenceNr));
        SaveSnapshot(model.Snapshot());
    }

    /// <summary>Nothing left to write: no write or snapshot work in flight, no policy update computing or pending.</summary>
    private bool AllStored => inFlight == 0 && snapshotWork.Count == 0 && !updating && model.Strategy is not { HasPendingUpdate: true };

    /// <summary>
    /// A snapshot saved (or not) or old ones deleted: the last of that work may be what a finished
    /// run waited for. An answer to an earlier incarnation's work (it restarted meanwhile) is not ours.
    /// </summary>
    private void SnapshotWorkDone((string Kind, long SequenceNr) work)
    {
        if (snapshotWork.Remove(work)) AnnounceWhenFinished();
    }

    // Finished only once its last events are stored: the caller may stop the node at once.
    private SearchStatus Status() => SearchViews.Status(model.State, AllStored, progress, PersistenceId);

    /// <summary>
    /// Akka's own line ("Last known sequence number [0]") reads as if the run were empty while
    /// the journal could not be read at all (a database outage): say what happened and what follows.
    /// </summary>
    protected override void OnRecoveryFailure(Exception reason, object? message = null) =>
        log.Error(JournalTrouble.Recovery("the coordinator", reason, message, LastSequenceNr));

    // Akka stops the actor after this; its supervisor starts it again and it recovers what was stored.
    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr) =>
        log.Error(JournalTrouble.Write("the coordinator", cause, @event, sequenceNr));

    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        // The state already counts the event: restart and recover from what was really stored.
        log.Error(cause, "event {0} rejected by the journal", @event.GetType().Name);
        throw new InvalidOperationException($"journal rejected {@event.GetType().Name}", cause);
    }

    protected override void PostStop()
    {
        model.Dispose();
        base.PostStop();
    }
}
