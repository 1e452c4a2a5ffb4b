using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using NasActors.Controller.Strategies;
using NasActors.Persistence;
using NasActors.Persistence.Snapshots;
using NasActors.Search;
using NasActors.Search.Events;

namespace NasActors.Controller.Coordinator;

/// <summary>
/// The persistent half of the <see cref="SearchCoordinator"/>, apart from its protocol: the
/// <see cref="SearchModel"/> its events fold into (recovery replays them, which is deterministic),
/// its writes (<see cref="CoordinatorJournal"/>) and snapshots (<see cref="SnapshotBook"/>), the
/// policy-update pipeline (<see cref="PolicyUpdates"/>), and telling the host once the run is
/// finished with everything stored. What the journal's troubles mean is said in one line each.
/// </summary>
public abstract class PersistentSearch : ReceivePersistentActor
{
    private readonly PersistenceIds ids;
    private readonly IActorRef? host;
    private readonly PolicyUpdates updates = new();
    private readonly SnapshotBook snapshots = new(Context.System.Settings.Config.GetInt("nas.coordinator.snapshot-after-policy-updates", 20));
    private readonly CoordinatorJournal journal;
    private bool announcedFinished;

    protected PersistentSearch(Func<SearchSettings, byte[]?, ISearchStrategy> createStrategy, PersistenceIds ids, IActorRef? host)
    {
        (this.ids, this.host) = (ids, host);
        Model = new SearchModel(createStrategy);
        journal = new CoordinatorJournal(Model, snapshots, (events, handler) => PersistAllAsync(events, handler), SaveSnapshot, () => LastSequenceNr, () =>
        {
            AfterStored();
            AnnounceWhenFinished();
        });
        Recover<SnapshotOffer>(offer => Model.Restore((ISearchSnapshot)offer.Snapshot));
        Recover<ISearchEvent>(evt =>
        {
            if (Model.Replay(evt) is { } disagreement) Log.Warning(disagreement);
            // What a crash before the next snapshot would replay again.
            snapshots.Event(policyUpdate: evt is PolicyUpdated);
        });
    }

    public override string PersistenceId => ids.CoordinatorId;

    /// <summary>The state (which decides) and the strategy its events drive.</summary>
    protected SearchModel Model { get; }

    /// <summary>Once a write is stored and its replies ran (the state may have moved to another phase).</summary>
    protected abstract void AfterStored();

    /// <summary>The status the host and askers are told.</summary>
    protected abstract Protocol.Messages.SearchStatus Status();

    /// <summary>Folds and stores decided events; <paramref name="after"/> (the replies) runs once they are stored.</summary>
    protected void PersistMany(IReadOnlyList<ISearchEvent> events, Action? after = null) => journal.Write(events, after);

    /// <summary>Stores an outcome already folded (the strategy learnt from it) with the events decided after it, in one write.</summary>
    protected void PersistApplied(IReadOnlyList<ISearchEvent> applied, IReadOnlyList<ISearchEvent> events, Action after) => journal.Write(applied, events, after);

    /// <summary>Starts the strategy's next pending policy update off the loop, unless one computes already.</summary>
    protected void StartUpdate() => updates.Start(Model.Strategy, Self);

    /// <summary>The commands of this half, in every behaviour: computed updates and the snapshot store's answers.</summary>
    protected void PersistenceCommands()
    {
        Command<PolicyUpdates.Computed>(u => updates.Current(u, Model.Strategy), u =>
        {
            Model.Strategy!.ApplyUpdate(u.Weights);
            PersistMany([new PolicyUpdated(Model.Strategy.PolicyVersion, Model.State.Trained + Model.State.Failed + Model.State.Stopped)], () =>
            {
                updates.Stored();
                StartUpdate();
                AnnounceWhenFinished();
            });
        });
        Command<PolicyUpdates.Computed>(_ => { });
        // Restart and recover: the update is recomputed from the journal, deterministically.
        Command<PolicyUpdates.Failed>(updates.Ours, f => throw new InvalidOperationException("policy update failed", f.Cause));
        Command<PolicyUpdates.Failed>(_ => { });
        Command<SaveSnapshotSuccess>(s =>
        {
            DeleteSnapshots(new SnapshotSelectionCriteria(snapshots.Saved(s.Metadata.SequenceNr)));
            AnnounceWhenFinished();
        });
        Command<SaveSnapshotFailure>(f =>
        {
            Log.Warning("snapshot failed (events are safe, recovery will replay more): {0}", f.Cause.Message);
            SnapshotWorkDone("save", f.Metadata.SequenceNr);
        });
        Command<DeleteSnapshotsSuccess>(d => SnapshotWorkDone("delete", d.Criteria.MaxSequenceNr));
        Command<DeleteSnapshotsFailure>(f =>
        {
            Log.Warning("old snapshots not deleted: {0}", f.Cause.Message);
            SnapshotWorkDone("delete", f.Criteria.MaxSequenceNr);
        });
    }

    /// <summary>Tells the host, once per completion, that the run is finished with everything stored (<see cref="SearchFinished"/>).</summary>
    protected void AnnounceWhenFinished()
    {
        // Reopened by a grown budget: its next completion is told again.
        if (!Model.State.Finished) announcedFinished = false;
        if (announcedFinished || !Model.State.Finished || !AllStored) return;
        announcedFinished = true;
        host?.Tell(new SearchFinished(Status()));
    }

    /// <summary>Nothing left to write: no write or snapshot work in flight, no policy update computing or pending.</summary>
    protected bool AllStored => !journal.Writing && snapshots.Idle && !updates.Computing && Model.Strategy is not { HasPendingUpdate: true };

    /// <summary>
    /// A snapshot saved (or not) or old ones deleted: the last of that work may be what a finished
    /// run waited for. An answer to an earlier incarnation's work (it restarted meanwhile) is not ours.
    /// </summary>
    private void SnapshotWorkDone(string kind, long sequenceNr)
    {
        if (snapshots.Done(kind, sequenceNr)) AnnounceWhenFinished();
    }

    /// <summary>
    /// Akka's own line ("Last known sequence number [0]") reads as if the run were empty while
    /// the journal could not be read at all (a database outage): say what happened and what follows.
    /// </summary>
    protected override void OnRecoveryFailure(Exception reason, object? message = null) =>
        Log.Error(JournalTrouble.Recovery("the coordinator", reason, message, LastSequenceNr));

    // Akka stops the actor after this; its supervisor starts it again and it recovers what was stored.
    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr) =>
        Log.Error(JournalTrouble.Write("the coordinator", cause, @event, sequenceNr));

    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        // The state already counts the event: restart and recover from what was really stored.
        Log.Error(cause, "event {0} rejected by the journal", @event.GetType().Name);
        throw new InvalidOperationException($"journal rejected {@event.GetType().Name}", cause);
    }

    protected override void PostStop()
    {
        Model.Dispose();
        base.PostStop();
    }
}
