using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using NasActors.Controller.Strategies;
using NasActors.Protocol.Messages;
using NasActors.Persistence;
using NasActors.Persistence.Snapshots;
using NasActors.Search;
using NasActors.Search.Events;

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
    private readonly WorkerRoster workers = new();
    private readonly Dictionary<long, (int Epoch, int Epochs)> progress = new();
    private readonly SearchModel model;
    private readonly PolicyUpdates updates = new();
    private readonly SnapshotBook snapshots = new(Context.System.Settings.Config.GetInt("nas.coordinator.snapshot-after-policy-updates", 20));
    private readonly CoordinatorJournal journal;
    private bool announcedFinished;

    private readonly RestartGrace grace = new(Context.System.Settings.Config.GetTimeSpan("nas.coordinator.claim-grace", TimeSpan.FromSeconds(5)));

    public ITimerScheduler Timers { get; set; } = null!;

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
        journal = new CoordinatorJournal(model, snapshots, (events, handler) => PersistAllAsync(events, handler), SaveSnapshot, () => LastSequenceNr, () =>
        {
            BecomeForState();
            AnnounceWhenFinished();
        });
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
        Command<RestartGrace.ClaimsClosed>(_ => PersistMany(model.State.RequeueUnclaimed(workers.Ids, "not claimed by a live worker after the coordinator restarted")));
        Command<RestartGrace.RepeatsOver>(_ =>
        {
            if (grace.RepeatsLine() is { } line) log.Info(line);
        });
        Command<GetSearchStatus>(_ => Sender.Tell(Status()));
        Command<PolicyUpdates.Computed>(u => updates.Current(u, model.Strategy), OnUpdateComputed);
        Command<PolicyUpdates.Computed>(_ => { });
        // Restart and recover: the update is recomputed from the journal, deterministically.
        Command<PolicyUpdates.Failed>(updates.Ours, f => throw new InvalidOperationException("policy update failed", f.Cause));
        Command<PolicyUpdates.Failed>(_ => { });
        Command<Terminated>(t => OnWorkerGone(t.ActorRef));
        Command<DeviceUnhealthy>(u => RecordHealth(u.WorkerId, healthy: false, () => model.State.MarkUnhealthy(u.WorkerId, u.Reason),
            $"{u.WorkerId}: device unhealthy, it takes no work until it passes its check again: {u.Reason}"));
        Command<DeviceHealthy>(h => RecordHealth(h.WorkerId, healthy: true, () => model.State.MarkHealthy(h.WorkerId), $"{h.WorkerId}: device passed its check again and takes work"));
        Command<SaveSnapshotSuccess>(s =>
        {
            DeleteSnapshots(new SnapshotSelectionCriteria(snapshots.Saved(s.Metadata.SequenceNr)));
            AnnounceWhenFinished();
        });
        Command<SaveSnapshotFailure>(f =>
        {
            log.Warning("snapshot failed (events are safe, recovery will replay more): {0}", f.Cause.Message);
            SnapshotWorkDone("save", f.Metadata.SequenceNr);
        });
        Command<DeleteSnapshotsSuccess>(d => SnapshotWorkDone("delete", d.Criteria.MaxSequenceNr));
        Command<DeleteSnapshotsFailure>(f =>
        {
            log.Warning("old snapshots not deleted: {0}", f.Cause.Message);
            SnapshotWorkDone("delete", f.Criteria.MaxSequenceNr);
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
        snapshots.Event(policyUpdate: evt is PolicyUpdated);
    }

    private void AfterRecovery()
    {
        if (model.State.Settings is not null && grace.Start(Timers, model.State, LastSequenceNr) is { } resumed) log.Warning(resumed);
        PersistMany(model.State.Resume(requested, DateTimeOffset.UtcNow));
        updates.Start(model.Strategy, Self);
        BecomeForState();
        AnnounceWhenFinished();
    }

    // ---- policy updates ----

    private void OnUpdateComputed(PolicyUpdates.Computed u)
    {
        model.Strategy!.ApplyUpdate(u.Weights);
        PersistMany([new PolicyUpdated(model.Strategy.PolicyVersion, model.State.Trained + model.State.Failed)], () =>
        {
            updates.Stored();
            updates.Start(model.Strategy, Self);
            AnnounceWhenFinished();
        });
    }

    // ---- workers ----

    private void Register(string workerId, IActorRef worker)
    {
        if (workers.Register(workerId, worker) is { } restarted)
        {
            // Same id, new actor: the worker restarted and lost what it was training.
            Context.Unwatch(restarted);
            PersistMany(model.State.Requeue(workerId, "worker restarted"));
        }
        Context.Watch(worker);
    }

    /// <summary>
    /// Stores a worker's health (nothing when unchanged) and acknowledges it once stored: also when
    /// unchanged, only after the writes in flight (an earlier write of this very change may yet fail).
    /// </summary>
    private void RecordHealth(string workerId, bool healthy, Func<IReadOnlyList<ISearchEvent>> decide, string change)
    {
        var sender = Sender;
        // First: a worker that restarted has its children requeued before its health is decided.
        Register(workerId, sender);
        var events = decide();
        if (events.Count > 0) log.Warning(change);
        // Before the search starts there is no journal to hold a sick device: no answer, so the worker says it again.
        if (!healthy && model.State.Settings is null) return;
        var recorded = new DeviceHealthRecorded(workerId, healthy);
        if (events.Count == 0) DeferAsync(recorded, r => sender.Tell(r));
        else PersistMany(events, () => sender.Tell(recorded));
    }

    private void OnWorkerGone(IActorRef worker)
    {
        if (workers.Remove(worker) is { } id) PersistMany(model.State.Requeue(id, "worker gone"));
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

    /// <summary>A worker's result or failure: an <see cref="Outcome"/>, or <see cref="ResultIgnored"/> (repeated, late, unknown).</summary>
    private void OnReport(WorkerReport report)
    {
        var sender = Sender;
        var outcome = model.State.Report(report);
        if (outcome is ResultIgnored ignored)
        {
            grace.Ignored(ignored, Timers);
            PersistMany([outcome], () => sender.Tell(new ResultRecorded(report.ChildId, report.Final)));
            return;
        }
        if (report is ChildFailure f)
            log.Warning("child {0}{1} failed on {2}: {3}", f.ChildId, f.Final ? " (final)" : "", f.WorkerId, f.Reason);
        Outcome(outcome, report.ChildId, report.WorkerId, sender, jobFollows => new ResultRecorded(report.ChildId, report.Final, jobFollows));
    }

    /// <summary>
    /// A child at a rung: the decision is journaled with its value before the worker hears it, so a
    /// resumed or handed-over coordinator answers the same; a rung already decided is answered as it
    /// was, once what is in flight is stored. A stop is an <see cref="Outcome"/>, as a result is.
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
        Outcome(decision, r.ChildId, r.WorkerId, sender, jobFollows => new RungDecided(r.ChildId, r.Epoch, true, jobFollows));
    }

    /// <summary>
    /// The one path for an outcome (a result, a failure, a stop at a rung) and the worker's next
    /// job: the outcome is folded (and the strategy learns from it) before the write, in journal
    /// order, so the next job already comes from what it taught; both go to the journal in one
    /// write, and the worker hears the answer, then its job: one round trip per child, which is
    /// what dispatch latency is made of.
    /// </summary>
    private void Outcome(ISearchEvent outcome, long childId, string workerId, IActorRef worker, Func<bool, object> answer)
    {
        progress.Remove(childId);
        Register(workerId, worker);
        model.Evolve(outcome);
        var next = model.State.NextJob(workerId, model.Sample);
        journal.Write([outcome], next?.Events ?? [], () =>
        {
            worker.Tell(answer(next is not null));
            if (next is not null) Send(worker, next.ChildId, next.Final);
            PersistMany(model.State.Completion(DateTimeOffset.UtcNow));
        });
        updates.Start(model.Strategy, Self);
    }

    private void Send(IActorRef worker, long id, bool final) => worker.Tell(model.State.TrainChild(id, final));

    // ---- persistence ----

    private void PersistMany(IReadOnlyList<ISearchEvent> events, Action? after = null) => journal.Write(events, after);

    /// <summary>Tells the host, once per completion, that the run is finished with everything stored (<see cref="SearchFinished"/>).</summary>
    private void AnnounceWhenFinished()
    {
        // Reopened by a grown budget: its next completion is told again.
        if (!model.State.Finished) announcedFinished = false;
        if (announcedFinished || !model.State.Finished || !AllStored) return;
        announcedFinished = true;
        host?.Tell(new SearchFinished(Status()));
    }

    /// <summary>Nothing left to write: no write or snapshot work in flight, no policy update computing or pending.</summary>
    private bool AllStored => !journal.Writing && snapshots.Idle && !updates.Computing && model.Strategy is not { HasPendingUpdate: true };

    /// <summary>
    /// A snapshot saved (or not) or old ones deleted: the last of that work may be what a finished
    /// run waited for. An answer to an earlier incarnation's work (it restarted meanwhile) is not ours.
    /// </summary>
    private void SnapshotWorkDone(string kind, long sequenceNr)
    {
        if (snapshots.Done(kind, sequenceNr)) AnnounceWhenFinished();
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
