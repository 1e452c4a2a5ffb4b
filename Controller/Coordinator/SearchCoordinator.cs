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
/// The search coordinator (a cluster singleton): its protocol with workers and the evaluator. Its
/// state is the immutable <see cref="SearchState"/>, which decides what each command means as
/// events; this actor only has them persisted and folded (<see cref="PersistentSearch"/>) and replies.
/// Lifecycle: waiting for a search (started by another node) → active → completed, each an
/// explicit behaviour.
/// </summary>
public sealed class SearchCoordinator : PersistentSearch, IWithTimers
{
    private readonly SearchSettings? requested;
    private readonly WorkerRoster workers = new();
    private readonly Dictionary<long, (int Epoch, int Epochs)> progress = new();

    private readonly RestartGrace grace = new(Context.System.Settings.Config.GetTimeSpan("nas.coordinator.claim-grace", TimeSpan.FromSeconds(5)));

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="requested">The settings to start a new search with (null: follow whatever the journal holds).</param>
    /// <param name="createStrategy">Makes the strategy from the settings and its saved bytes (default: <see cref="StrategyCatalog.ForSearch"/>).</param>
    /// <param name="ids">The run's persistence ids (default: a run folder's).</param>
    /// <param name="host">Told when the run is finished and stored (<see cref="SearchFinished"/>).</param>
    public SearchCoordinator(SearchSettings? requested, Func<SearchSettings, byte[]?, ISearchStrategy>? createStrategy = null, PersistenceIds? ids = null,
        IActorRef? host = null)
        : base(createStrategy ?? StrategyCatalog.ForSearch, ids ?? PersistenceIds.Folder, host)
    {
        this.requested = requested;
        Recover<RecoveryCompleted>(_ => AfterRecovery());
        Waiting();
    }

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
        Command<QueueFinalTraining>(q => PersistMany(Model.State.QueueFinal(q.ChildIds)));
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
        PersistenceCommands();
        Command<RegisterWorker>(r =>
        {
            Register(r.WorkerId, Sender);
            Sender.Tell(new WorkerRegistered(r.WorkerId));
        });
        // Only for a job running on that worker: a stopped child trains on until its worker hears so.
        Command<ChildProgress>(p =>
        {
            if (Model.State.Children.TryGetValue(p.ChildId, out var c) && c.Job(p.Final) is { Status: JobStatus.Running } job && job.WorkerId == p.WorkerId)
                progress[p.ChildId] = (p.Epoch, p.Epochs);
        });
        // A live worker still training its child: known (and watched) from now on, its child stays with it.
        Command<StillTraining>(c => Register(c.WorkerId, Sender));
        Command<RestartGrace.ClaimsClosed>(_ => PersistMany(Model.State.RequeueUnclaimed(workers.Ids, "not claimed by a live worker after the coordinator restarted")));
        Command<RestartGrace.RepeatsOver>(_ =>
        {
            if (grace.RepeatsLine() is { } line) Log.Info(line);
        });
        Command<GetSearchStatus>(_ => Sender.Tell(Status()));
        Command<Terminated>(t => OnWorkerGone(t.ActorRef));
        Command<DeviceUnhealthy>(u => RecordHealth(u.WorkerId, healthy: false, () => Model.State.MarkUnhealthy(u.WorkerId, u.Reason),
            $"{u.WorkerId}: device unhealthy, it takes no work until it passes its check again: {u.Reason}"));
        Command<DeviceHealthy>(h => RecordHealth(h.WorkerId, healthy: true, () => Model.State.MarkHealthy(h.WorkerId), $"{h.WorkerId}: device passed its check again and takes work"));
    }

    private enum Phase { Waiting, Active, Completed }

    private Phase phase = Phase.Waiting;

    protected override void AfterStored() => BecomeForState();

    /// <summary>Switches behaviour when the state has moved to another phase (a larger budget reopens a completed search).</summary>
    private void BecomeForState()
    {
        var next = Model.State.Settings is null ? Phase.Waiting : Model.State.Finished ? Phase.Completed : Phase.Active;
        if (next == phase) return;
        phase = next;
        Become(next switch { Phase.Active => Active, Phase.Completed => Completed, _ => Waiting });
    }

    // ---- recovery ----

    private void AfterRecovery()
    {
        if (Model.State.Settings is not null && grace.Start(Timers, Model.State, LastSequenceNr) is { } resumed) Log.Warning(resumed);
        PersistMany(Model.State.Resume(requested, DateTimeOffset.UtcNow));
        StartUpdate();
        BecomeForState();
        AnnounceWhenFinished();
    }

    // ---- workers ----

    private void Register(string workerId, IActorRef worker)
    {
        if (workers.Register(workerId, worker) is { } restarted)
        {
            // Same id, new actor: the worker restarted and lost what it was training.
            Context.Unwatch(restarted);
            PersistMany(Model.State.Requeue(workerId, "worker restarted"));
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
        if (events.Count > 0) Log.Warning(change);
        // Before the search starts there is no journal to hold a sick device: no answer, so the worker says it again.
        if (!healthy && Model.State.Settings is null) return;
        var recorded = new DeviceHealthRecorded(workerId, healthy);
        if (events.Count == 0) DeferAsync(recorded, r => sender.Tell(r));
        else PersistMany(events, () => sender.Tell(recorded));
    }

    private void OnWorkerGone(IActorRef worker)
    {
        if (workers.Remove(worker) is { } id) PersistMany(Model.State.Requeue(id, "worker gone"));
    }

    private void Dispatch(string workerId, IActorRef worker)
    {
        Register(workerId, worker);
        // A worker asking for work is idle: anything still assigned to it was lost on the way.
        PersistMany(Model.State.Requeue(workerId, "worker idle while assigned"));
        if (Model.State.NextJob(workerId, Model.Sample) is { } job)
            PersistMany(job.Events, () => Send(worker, job.ChildId, job.Final));
        else
            worker.Tell(new NoWork(Model.State.Finished));
    }

    /// <summary>
    /// A worker's result or failure: an <see cref="Outcome"/> (with the decisions of rungs it brings
    /// that were never decided), or <see cref="ResultIgnored"/> (repeated, late, unknown).
    /// </summary>
    private void OnReport(WorkerReport report)
    {
        var sender = Sender;
        var events = Model.State.Report(report);
        if (events is [ResultIgnored ignored])
        {
            grace.Ignored(ignored, Timers);
            PersistMany(events, () => sender.Tell(new ResultRecorded(report.ChildId, report.Final)));
            return;
        }
        if (report is ChildFailure f)
            Log.Warning("child {0}{1} failed on {2}: {3}", f.ChildId, f.Final ? " (final)" : "", f.WorkerId, f.Reason);
        // Rare (a rung's answer lost): nothing is gathered for the usual report, whose one event is its outcome.
        if (events[0] is ChildReachedRung && events.OfType<ChildReachedRung>().ToList() is [.., var last] late)
            Log.Warning("child {0}: rung(s) at epoch {1} decided with its result, {2} (their answer had not reached {3})", report.ChildId,
                string.Join(", ", late.Select(r => r.Epoch)), last.Stopped ? $"stopped at epoch {last.Epoch}" : "going on", report.WorkerId);
        Outcome(events, report.ChildId, report.WorkerId, sender, jobFollows => new ResultRecorded(report.ChildId, report.Final, jobFollows));
        // Once, when the bounds have refused every child so far: the search goes on, and the user should hear.
        if (events is [.., ChildRefused] && Model.State.Refused == SearchViews.RefusedAlone && SearchViews.RefusalNote(Model.State) is { } note)
            Log.Warning(note);
    }

    /// <summary>
    /// A child at a rung: the decision (with those of earlier rungs whose answer was lost) is journaled
    /// with its value before the worker hears it, so a resumed or handed-over coordinator answers the
    /// same; a rung already decided is answered as it was, once what is in flight is stored. A stop is
    /// an <see cref="Outcome"/>, as a result is.
    /// </summary>
    private void OnRungReached(RungReached r)
    {
        var sender = Sender;
        var (decisions, stop) = Model.State.ReachRung(r);
        if (decisions.Count == 0)
        {
            DeferAsync(new RungDecided(r.ChildId, r.Epoch, stop), a => sender.Tell(a));
            return;
        }
        if (!stop)
        {
            PersistMany(decisions, () => sender.Tell(new RungDecided(r.ChildId, r.Epoch, false)));
            return;
        }
        Outcome(decisions, r.ChildId, r.WorkerId, sender, jobFollows => new RungDecided(r.ChildId, r.Epoch, true, jobFollows));
    }

    /// <summary>
    /// The one path for an outcome (a result, a failure, a stop at a rung, with the rung decisions before it) and the worker's next
    /// job: the outcome is folded (and the strategy learns from it) before the write, in journal
    /// order, so the next job already comes from what it taught; both go to the journal in one
    /// write, and the worker hears the answer, then its job: one round trip per child, which is
    /// what dispatch latency is made of.
    /// </summary>
    private void Outcome(IReadOnlyList<ISearchEvent> outcome, long childId, string workerId, IActorRef worker, Func<bool, object> answer)
    {
        progress.Remove(childId);
        Register(workerId, worker);
        foreach (var e in outcome) Model.Evolve(e);
        var next = Model.State.NextJob(workerId, Model.Sample);
        PersistApplied(outcome, next?.Events ?? [], () =>
        {
            worker.Tell(answer(next is not null));
            if (next is not null) Send(worker, next.ChildId, next.Final);
            PersistMany(Model.State.Completion(DateTimeOffset.UtcNow));
        });
        StartUpdate();
    }

    private void Send(IActorRef worker, long id, bool final) => worker.Tell(Model.State.TrainChild(id, final));

    // Finished only once its last events are stored: the caller may stop the node at once.
    protected override SearchStatus Status() => SearchViews.Status(Model.State, AllStored, progress, PersistenceId);
}
