using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using NasActors.Protocol.Messages;
using NasActors.Persistence;
using NasActors.Search.Events;

namespace NasActors.Evaluator;

/// <summary>
/// The evaluator: follows the coordinator's events as a live stream read from the journal,
/// keeps the top-K leaderboard, stores it with its read offset (snapshots, so a restart resumes
/// the stream where it stopped), and once the search completes asks the coordinator to retrain
/// the top K with the final budget (repeated until the journal shows it queued).
/// </summary>
public sealed class LeaderboardKeeper : ReceivePersistentActor, IWithTimers
{
    private const int SnapshotEvery = 200;

    private sealed record StreamEvent(long SequenceNr, object Event);
    private sealed record AskForFinal;

    /// <summary>The event stream of one incarnation ended; a stream of an earlier one ends as it restarts, and is ignored.</summary>
    private sealed record StreamFailed(Guid Incarnation, Exception Cause);

    private readonly Guid incarnation = Guid.NewGuid();

    private readonly IActorRef coordinator;
    private readonly PersistenceIds ids;
    private readonly ILoggingAdapter log = Context.GetLogger();
    private Leaderboard board;
    private FinalTrainingRequest request = FinalTrainingRequest.None;
    private long offset;
    private long sinceSnapshot;

    public LeaderboardKeeper(IActorRef coordinator, int capacity, PersistenceIds? ids = null)
    {
        this.coordinator = coordinator;
        this.ids = ids ?? PersistenceIds.Folder;
        board = new Leaderboard(capacity);
        Recover<SnapshotOffer>(o =>
        {
            var s = (ILeaderboardSnapshot)o.Snapshot;
            board = s.ToBoard();
            request = s.ToRequest();
            offset = s.Offset;
        });
        // A request due when it stopped (the search completed, nothing queued yet) is asked for again:
        // the stream resumes after the completion it will not see again.
        Recover<RecoveryCompleted>(_ =>
        {
            Follow();
            AskFinal();
        });
        Command<StreamEvent>(OnEvent);
        // The stream ended (the database went away): stop; the supervisor starts the keeper again, with backoff, from its snapshot.
        Command<StreamFailed>(f => f.Incarnation == incarnation, f =>
        {
            log.Warning("the search's event stream failed ({0}); the evaluator restarts", f.Cause.Message);
            Context.Stop(Self);
        });
        Command<StreamFailed>(_ => { });
        Command<AskForFinal>(_ => AskFinal());
        Command<SaveSnapshotSuccess>(s => DeleteSnapshots(new SnapshotSelectionCriteria(s.Metadata.SequenceNr - 1, s.Metadata.Timestamp.AddTicks(-1))));
        Command<SaveSnapshotFailure>(f => log.Warning("leaderboard snapshot failed: {0}", f.Cause.Message));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(_ => { });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public override string PersistenceId => ids.EvaluatorId;

    protected override void OnRecoveryFailure(Exception reason, object? message = null) =>
        log.Error(JournalTrouble.Recovery("the evaluator", reason, message, LastSequenceNr));

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr) =>
        log.Error(JournalTrouble.Write("the evaluator", cause, @event, sequenceNr));

    public static Props Props(IActorRef coordinator, int capacity, PersistenceIds? ids = null) =>
        Akka.Actor.Props.Create(() => new LeaderboardKeeper(coordinator, capacity, ids));

    private void Follow()
    {
        var query = PersistenceQuery.Get(Context.System).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
        var self = Self;
        var me = incarnation;
        query.EventsByPersistenceId(ids.CoordinatorId, offset + 1, long.MaxValue)
            .RunForeach(e => self.Tell(new StreamEvent(e.SequenceNr, e.Event)), Context.Materializer())
            .PipeTo(self, failure: e => new StreamFailed(me, e));
    }

    private void OnEvent(StreamEvent e)
    {
        if (e.SequenceNr <= offset || e.Event is not ISearchEvent evt) return;
        board.Apply(evt);
        request = request.Evolve(evt);
        offset = e.SequenceNr;
        if (++sinceSnapshot >= SnapshotEvery || e.Event is SearchCompleted or FinalTrainingQueued or FinalTrainingCompleted)
        {
            sinceSnapshot = 0;
            SaveSnapshot(LeaderboardSnapshot.Of(offset, board, request));
        }
        if (e.Event is SearchCompleted) AskFinal();
    }

    private void AskFinal()
    {
        if (!request.Due) return;
        coordinator.Tell(new QueueFinalTraining(board.Finalists(request.TopK)));
        Timers.StartSingleTimer("final", new AskForFinal(), TimeSpan.FromSeconds(2));
    }
}
