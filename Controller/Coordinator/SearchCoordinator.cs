using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using NasActors.Controller.Strategies;
using NasActors.Persistence;
using NasActors.Persistence.Events;
using NasActors.Protocol;
using NasActors.Protocol.Messages;
using NasActors.SearchSpace;

namespace NasActors.Controller.Coordinator;

/// <summary>
/// The search coordinator (a cluster singleton): persists each child before dispatching it,
/// hands work to workers that ask, requeues the children of workers that die, records each
/// result once, drives the strategy, and snapshots state and strategy every N events. Its state
/// is <see cref="SearchState"/>; recovery replays events into the state and into the strategy,
/// which is deterministic, so it ends exactly where it was.
/// </summary>
public sealed class SearchCoordinator : ReceivePersistentActor
{
    private readonly SearchSettings? requested;
    private readonly ILoggingAdapter log = Context.GetLogger();
    private readonly Dictionary<string, IActorRef> workers = new();
    private readonly Dictionary<long, (int Epoch, int Epochs)> progress = new();
    private SearchState state = new();
    private ISearchStrategy? strategy;
    private int eventsSinceSnapshot;
    private int inFlight;
    private bool updating;

    /// <param name="requested">The settings to start a new search with, or to check a resumed one against (null: follow whatever the journal holds).</param>
    public SearchCoordinator(SearchSettings? requested)
    {
        this.requested = requested;

        Recover<SnapshotOffer>(offer =>
        {
            var snapshot = (SearchSnapshot)offer.Snapshot;
            state = SearchState.FromSnapshot(snapshot);
            strategy?.Dispose();
            strategy = CreateStrategy(snapshot.Settings, snapshot.StrategyState);
        });
        Recover<IWireMessage>(Replay);
        Recover<RecoveryCompleted>(_ => AfterRecovery());

        Command<RegisterWorker>(r =>
        {
            Register(r.WorkerId, Sender);
            Sender.Tell(new WorkerRegistered(r.WorkerId));
        });
        Command<RequestWork>(r => Dispatch(r.WorkerId, Sender));
        Command<ChildProgress>(p => progress[p.ChildId] = (p.Epoch, p.Epochs));
        Command<ChildResult>(OnResult);
        Command<ChildFailure>(OnFailure);
        Command<QueueFinalTraining>(OnQueueFinal);
        Command<GetSearchStatus>(_ => Sender.Tell(Status()));
        Command<UpdateComputed>(OnUpdateComputed);
        // Restart and recover: the update is recomputed from the journal, deterministically.
        Command<UpdateFailed>(f => throw new InvalidOperationException("policy update failed", f.Cause));
        Command<Terminated>(t => OnWorkerGone(t.ActorRef));
        Command<SaveSnapshotSuccess>(s => DeleteSnapshots(new SnapshotSelectionCriteria(s.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(f => log.Warning("snapshot failed (events are safe, recovery will replay more): {0}", f.Cause.Message));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => log.Warning("old snapshots not deleted: {0}", f.Cause.Message));
    }

    public override string PersistenceId => SearchJournal.CoordinatorId;

    public static Props Props(SearchSettings? requested) => Akka.Actor.Props.Create(() => new SearchCoordinator(requested));

    private DecisionSpace Space => new(state.Settings!.Blocks);

    /// <summary>Recovery: the state folds the event, the strategy sees the same calls it saw live.</summary>
    private void Replay(IWireMessage evt)
    {
        Apply(evt);
        switch (evt)
        {
            case ChildSampled e:
                var p = strategy!.Propose(e.ChildId);
                if (!p.Decisions.SequenceEqual(e.Decisions))
                    log.Warning("child {0}: the restored strategy proposes another architecture than the journal holds; the journal wins", e.ChildId);
                break;
            case ChildTrained e:
                strategy!.Observe(e.ChildId, e.Accuracy);
                break;
            case ChildFailed e:
                strategy!.Observe(e.ChildId, null);
                break;
            case PolicyUpdated e when strategy!.HasPendingUpdate:
                strategy.ApplyUpdate(strategy.PrepareUpdate()());
                if (strategy.PolicyVersion != e.Version)
                    log.Warning("policy version {0} replayed as {1}; the journal wins", e.Version, strategy.PolicyVersion);
                break;
        }
    }

    /// <summary>
    /// PPO updates are deferred: computed off this actor's message loop, installed when they are
    /// ready, and journaled as <see cref="PolicyUpdated"/> at that moment, so that replay installs
    /// each at the same point in the sequence of proposals.
    /// </summary>
    private static ISearchStrategy CreateStrategy(SearchSettings settings, byte[]? state)
    {
        var s = Strategies.Strategies.Create(StrategyFactory.ConfigFor(settings), state);
        if (s is PpoStrategy ppo) ppo.DeferUpdates = true;
        return s;
    }

    /// <summary>Folds an event into the state (live after each write, and during recovery).</summary>
    private void Apply(IWireMessage evt)
    {
        state.Apply(evt);
        if (evt is SearchStarted started)
        {
            strategy?.Dispose();
            strategy = CreateStrategy(started.Settings, null);
        }
    }

    private void AfterRecovery()
    {
        if (state.Settings is null)
        {
            if (requested is null) return;
            PersistOne(new SearchStarted(requested, DateTimeOffset.UtcNow));
            return;
        }
        if (requested is not null && requested.Budget > state.Budget)
            PersistOne(new BudgetIncreased(requested.Budget));
        // No worker is known after a (re)start: whatever was running goes back to the queue. A
        // worker that is still training one of them may still report it; the first result counts.
        var running = state.RunningJobs.Select(j => (IWireMessage)new ChildRequeued(j.ChildId, j.Final, "coordinator restarted")).ToList();
        if (running.Count > 0) PersistMany(running);
        CompleteIfDone();
        StartUpdate();
    }

    private sealed record UpdateComputed(byte[] Weights);

    private sealed record UpdateFailed(Exception Cause);

    /// <summary>Computes the next pending policy update on the thread pool; the loop goes on meanwhile.</summary>
    private void StartUpdate()
    {
        if (updating || strategy is not { HasPendingUpdate: true }) return;
        updating = true;
        var compute = strategy.PrepareUpdate();
        Task.Run(compute).PipeTo(Self, success: w => new UpdateComputed(w), failure: e => new UpdateFailed(e));
    }

    private void OnUpdateComputed(UpdateComputed u)
    {
        strategy!.ApplyUpdate(u.Weights);
        PersistMany([new PolicyUpdated(strategy.PolicyVersion, state.Trained + state.Failed)], () =>
        {
            updating = false;
            StartUpdate();
        });
    }

    private void Register(string workerId, IActorRef worker)
    {
        if (workers.TryGetValue(workerId, out var known) && !known.Equals(worker))
        {
            // Same id, new actor: the worker restarted and lost what it was training.
            Context.Unwatch(known);
            Requeue(workerId, "worker restarted");
        }
        workers[workerId] = worker;
        Context.Watch(worker);
    }

    private void Dispatch(string workerId, IActorRef worker)
    {
        if (state.Settings is null)
        {
            worker.Tell(new NoWork(false));
            return;
        }
        Register(workerId, worker);
        // A worker asking for work is idle: anything still assigned to it was lost on the way.
        Requeue(workerId, "worker idle while assigned");
        if (NextJob(workerId) is { } job)
            PersistMany(job.Events, () => Send(worker, job.ChildId, job.Final));
        else
            worker.Tell(new NoWork(state.Finished));
    }

    /// <summary>The events that assign the next job to a worker (sampling a new child if needed), or null when there is none.</summary>
    private (IReadOnlyList<IWireMessage> Events, long ChildId, bool Final)? NextJob(string workerId)
    {
        if (state.Queue.Count > 0)
        {
            var id = state.Queue.First();
            return ([new ChildAssigned(id, false, workerId, state.Children[id].Attempts + 1)], id, false);
        }
        if (state.NeedsSampling)
        {
            var p = strategy!.Propose(state.NextChildId);
            return ([new ChildSampled(p.ChildId, p.Genotype, p.Decisions, p.LogProbability, p.PolicyVersion), new ChildAssigned(p.ChildId, false, workerId, 1)], p.ChildId, false);
        }
        if (state.FinalQueue.Count > 0)
        {
            var id = state.FinalQueue.First();
            return ([new ChildAssigned(id, true, workerId, state.Children[id].FinalAttempts + 1)], id, true);
        }
        return null;
    }

    /// <summary>
    /// Stores an outcome together with the reporting worker's next assignment, in one write: one
    /// journal round trip per child instead of two, which is what dispatch latency is made of.
    /// </summary>
    private void RecordAndContinue(IReadOnlyList<IWireMessage> outcome, long childId, bool final, string workerId, IActorRef worker)
    {
        Register(workerId, worker);
        // The outcome frees the worker; the next job must not be the child it just reported.
        var next = state.Settings is null ? null : NextJob(workerId);
        if (next is { } n && n.ChildId == childId && n.Final == final) next = null;
        PersistMany([.. outcome, .. next?.Events ?? []], () =>
        {
            worker.Tell(new ResultRecorded(childId, final, JobFollows: next is not null));
            if (next is { } job) Send(worker, job.ChildId, job.Final);
            CompleteIfDone();
        });
    }

    private void Send(IActorRef worker, long id, bool final)
    {
        var child = state.Children[id];
        var s = state.Settings!;
        var seed = (int)((s.Seed * 1_000_003 + id) & 0x7fffffff);
        worker.Tell(new TrainChild(id, Space.Decode(child.Decisions), final, seed, final ? child.FinalAttempts : child.Attempts, final ? s.Final : s.Search));
    }

    private void OnResult(ChildResult r)
    {
        var sender = Sender;
        if (!state.AwaitsResult(r.ChildId, r.Final))
        {
            Ignore(r.ChildId, r.Final, r.WorkerId, sender);
            return;
        }
        progress.Remove(r.ChildId);
        if (r.Final)
        {
            RecordAndContinue([new FinalTrainingCompleted(r.ChildId, r.WorkerId, r.Accuracy, r.TestAccuracy, r.Loss, r.Parameters, r.MultAdds, r.Seconds)],
                r.ChildId, true, r.WorkerId, sender);
            return;
        }
        Observe(r.ChildId, new ChildTrained(r.ChildId, r.WorkerId, r.Accuracy, r.Loss, r.Parameters, r.MultAdds, r.Seconds), r.Accuracy, r.WorkerId, sender);
    }

    private void OnFailure(ChildFailure f)
    {
        var sender = Sender;
        if (!state.AwaitsResult(f.ChildId, f.Final))
        {
            Ignore(f.ChildId, f.Final, f.WorkerId, sender);
            return;
        }
        progress.Remove(f.ChildId);
        log.Warning("child {0}{1} failed on {2}: {3}", f.ChildId, f.Final ? " (final)" : "", f.WorkerId, f.Reason);
        if (f.Final)
        {
            RecordAndContinue([new FinalTrainingFailed(f.ChildId, f.WorkerId, f.Reason)], f.ChildId, true, f.WorkerId, sender);
            return;
        }
        Observe(f.ChildId, new ChildFailed(f.ChildId, f.WorkerId, f.Reason), null, f.WorkerId, sender);
    }

    /// <summary>
    /// The strategy learns at once, in journal order (should the write fail, the actor restarts
    /// and replays it from the journal). Policy changes never happen here: updates are deferred
    /// and journaled only when installed (<see cref="OnUpdateComputed"/>).
    /// </summary>
    private void Observe(long id, IWireMessage outcome, double? reward, string workerId, IActorRef sender)
    {
        strategy!.Observe(id, reward);
        RecordAndContinue([outcome], id, false, workerId, sender);
        StartUpdate();
    }

    private void Ignore(long id, bool final, string workerId, IActorRef sender)
    {
        var reason = state.Children.ContainsKey(id) ? "result already recorded" : "unknown child";
        PersistMany([new ResultIgnored(id, final, workerId, reason)], () => sender.Tell(new ResultRecorded(id, final)));
    }

    private void OnQueueFinal(QueueFinalTraining q)
    {
        if (!state.SearchCompleted || state.FinalQueued) return;
        var ids = q.ChildIds.Where(id => state.Children.TryGetValue(id, out var c) && c.Status == ChildStatus.Trained).Distinct().ToList();
        // Even an empty list is recorded: with no trained child there is nothing to retrain, and the search is over.
        PersistOne(new FinalTrainingQueued(ids));
    }

    private void OnWorkerGone(IActorRef worker)
    {
        var id = workers.FirstOrDefault(w => w.Value.Equals(worker)).Key;
        if (id is null) return;
        workers.Remove(id);
        Requeue(id, "worker gone");
    }

    private void Requeue(string workerId, string reason)
    {
        var events = state.RunningOn(workerId).Select(j => (IWireMessage)new ChildRequeued(j.ChildId, j.Final, reason)).ToList();
        if (events.Count > 0) PersistMany(events);
    }

    private void CompleteIfDone()
    {
        if (state.AllResultsIn && !state.SearchCompleted)
            PersistOne(new SearchCompleted(state.Trained, state.Failed, state.BestAccuracy, DateTimeOffset.UtcNow));
    }

    private void PersistOne(IWireMessage evt) => PersistMany([evt]);

    /// <summary>
    /// Persists events in one write and applies them to the state at once, so the next command
    /// already sees them (no job is handed out twice); <paramref name="after"/> (the replies) runs
    /// once they are stored. The actor keeps working while writes are in flight, so the journal
    /// commits the writes of many workers together: that is what keeps dispatch latency low.
    /// Should a write fail, the actor stops, restarts, and recovers only what was stored.
    /// </summary>
    private void PersistMany(IReadOnlyList<IWireMessage> events, Action? after = null)
    {
        foreach (var e in events) Apply(e);
        inFlight++;
        var left = events.Count;
        PersistAllAsync(events, _ =>
        {
            eventsSinceSnapshot++;
            if (--left > 0) return;
            inFlight--;
            after?.Invoke();
            MaybeSnapshot();
        });
    }

    private void MaybeSnapshot()
    {
        // Only when nothing is in flight does the state hold exactly what the journal holds.
        if (inFlight > 0 || eventsSinceSnapshot < state.Settings!.SnapshotEvery || strategy is null) return;
        eventsSinceSnapshot = 0;
        SaveSnapshot(state.ToSnapshot(strategy.SaveState()));
    }

    private SearchStatus Status() => new(
        state.Budget, state.Sampled, state.Trained, state.Failed, state.Running, state.BestAccuracy, state.PolicyVersion,
        state.SearchCompleted, state.FinalChildren.Count(), state.FinalChildren.Count(c => c.FinalStatus is ChildStatus.Trained or ChildStatus.Failed),
        state.Settings is not null && state.Finished && !updating && strategy is not { HasPendingUpdate: true },
        state.RunningJobs
            .Select(j => new RunningChild(j.ChildId, j.Final, j.WorkerId, progress.GetValueOrDefault(j.ChildId).Epoch, progress.GetValueOrDefault(j.ChildId).Epochs))
            .ToList());

    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        // The state already counts the event: restart and recover from what was really stored.
        log.Error(cause, "event {0} rejected by the journal", @event.GetType().Name);
        throw new InvalidOperationException($"journal rejected {@event.GetType().Name}", cause);
    }

    protected override void PostStop()
    {
        strategy?.Dispose();
        base.PostStop();
    }
}
