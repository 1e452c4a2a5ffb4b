using Akka.Actor;
using Akka.Event;
using NasActors.Controller.Coordinator;
using NasActors.Protocol.Messages;
using NasActors.Persistence;

namespace NasActors.Hosting;

/// <summary>
/// The cluster singleton: holds the run's writer lease and, only while it holds it, runs the run's
/// writers (the coordinator under its backoff supervisor, and the evaluator), forwarding the
/// coordinator's messages to it. Lifecycle in explicit behaviours:
/// acquiring (tries every second; messages wait for the try under way, and are dropped when it
/// fails: workers resend) → writing (checks the lease every second) → stopping (waits until both
/// writers have stopped, then lets the lease go) → acquiring again after a lost lease, or finished: a finished run's lease is let go, so that a
/// later <c>nas search</c> may grow its budget, and taken again when the stored budget grows.
/// Database calls run off the actor's thread, so forwarding never waits on them. The coordinator
/// tells it when the run is finished (<see cref="SearchFinished"/>).
/// </summary>
public sealed class RunWriter : ReceiveActor, IWithTimers, IWithUnboundedStash
{
    private sealed record Tick;

    /// <param name="Finished">With the lease taken: the run's status when it is stored finished (nothing to recover).</param>
    private sealed record LeaseAnswer(bool Taken, string? Why, SearchStatus? Finished = null);

    private sealed record LeaseChecked(bool Held);

    private sealed record StoredBudget(int? Budget);

    private sealed record CallFailed(Exception Cause);

    private static readonly TimeSpan Every = TimeSpan.FromSeconds(1);
    private const int BudgetEveryTicks = 5;
    private readonly IWriterLease lease;
    private readonly Func<IUntypedActorContext, int, IActorRef> startWriters;
    private readonly Func<int?> storedBudget;
    private readonly Func<SearchStatus?> storedFinished;
    private readonly ILoggingAdapter log = Context.GetLogger();
    private readonly HashSet<IActorRef> writers = [];
    private IActorRef? coordinator;
    private SearchStatus? finished;
    private string? waitingFor;
    private int generation;
    private int ticks;
    private bool calling;

    /// <param name="startWriters">Starts the coordinator and the evaluator as children, named with the generation (stopped ones may not be gone yet); returns where coordinator messages go.</param>
    /// <param name="storedBudget">The run's budget as stored now (a finished run is taken up again when it grows).</param>
    /// <param name="storedFinished">
    /// The run's status when, as stored, it is finished and its budget has not grown; else null. Such a
    /// run is not recovered: a standby that takes over a finished run would load all of it (and
    /// libtorch, for PPO) to learn only that it is finished, and keep that memory while it idles.
    /// </param>
    public RunWriter(IWriterLease lease, Func<IUntypedActorContext, int, IActorRef> startWriters, Func<int?> storedBudget, Func<SearchStatus?> storedFinished)
    {
        this.lease = lease;
        this.startWriters = startWriters;
        this.storedBudget = storedBudget;
        this.storedFinished = storedFinished;
        Acquiring();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public IStash Stash { get; set; } = null!;

    public static Props Props(IWriterLease lease, Func<IUntypedActorContext, int, IActorRef> startWriters, Func<int?> storedBudget,
        Func<SearchStatus?> storedFinished) =>
        Akka.Actor.Props.Create(() => new RunWriter(lease, startWriters, storedBudget, storedFinished));

    protected override void PreStart() => Timers.StartPeriodicTimer("tick", new Tick(), TimeSpan.Zero, Every);

    // Children stop before PostStop runs: the lease goes only once nothing of ours can write.
    protected override void PostStop() => lease.Dispose();

    // A restart (never expected) must not let the lease go while the writers are still stopping:
    // the new instance's first TryAcquire starts afresh once they are gone.
    protected override void PreRestart(Exception reason, object message)
    {
        foreach (var child in Context.GetChildren()) Context.Stop(child);
    }

    private void Acquiring()
    {
        Receive<Tick>(_ => CallDatabase(() =>
        {
            try
            {
                return lease.TryAcquire() is { } holder ? new LeaseAnswer(false, holder) : new LeaseAnswer(true, null, FinishedAsStored());
            }
            catch (RunStoreException e)
            {
                return new LeaseAnswer(false, e.Message);
            }
        }));
        Receive<LeaseAnswer>(a =>
        {
            calling = false;
            // What came during the try goes to the writers just started, so a worker's first message
            // no longer waits for its resend (up to 2 s at every start and takeover). After a failed
            // try it is dropped: a node that waits long for the lease holds nothing, and workers
            // resend every 2 s.
            if (a.Taken) Stash.UnstashAll();
            else Stash.ClearStash();
            if (a is { Taken: true, Finished: { } done })
            {
                log.Warning("the run is finished as stored: nothing to recover; this node waits for its budget to grow");
                waitingFor = null;
                finished = done;
                lease.Release();
                Become(Finished);
            }
            else if (a.Taken)
            {
                // Also the first step of a takeover's timeline (the coordinator's recovery follows).
                log.Warning("took the run's writer lease: this node writes the run now");
                waitingFor = null;
                finished = null;
                coordinator = startWriters(Context, ++generation);
                foreach (var child in Context.GetChildren()) writers.Add(Context.Watch(child));
                Become(Writing);
            }
            else if (a.Why != waitingFor)
            {
                // Once per reason: a standby waits here for as long as the active coordinator lives.
                log.Warning("waiting for the run's writer lease ({0})", a.Why);
                waitingFor = a.Why;
            }
        });
        AnswerFinishedStatus();
        Stale(other: _ => Stash.Stash());
    }

    private void Writing()
    {
        Receive<Tick>(_ => CallDatabase(() => new LeaseChecked(lease.StillHeld())));
        Receive<LeaseChecked>(c =>
        {
            calling = false;
            if (c.Held) return;
            log.Error("lost the run's writer lease (database connection lost); stopping the coordinator until it is back");
            StopWriters();
        });
        Receive<SearchFinished>(f =>
        {
            finished = f.Status;
            StopWriters();
        });
        Receive<CallFailed>(Failed);
        // Both writers live under backoff supervisors; should one stop anyway, the generation starts afresh.
        Receive<Terminated>(t =>
        {
            writers.Remove(t.ActorRef);
            StopWriters();
        });
        ReceiveAny(m => coordinator.Forward(m));
    }

    private void StopWriters()
    {
        foreach (var child in writers) Context.Stop(child);
        coordinator = null;
        Become(Stopping);
    }

    private void Stopping()
    {
        Receive<Terminated>(t =>
        {
            writers.Remove(t.ActorRef);
            LetGoWhenStopped();
        });
        AnswerFinishedStatus();
        Stale(then: LetGoWhenStopped);
    }

    /// <summary>Once both writers are gone and no lease call is under way, the lease goes.</summary>
    private void LetGoWhenStopped()
    {
        if (writers.Count > 0 || calling) return;
        lease.Release();
        if (finished is null) Become(Acquiring);
        else Become(Finished);
    }

    /// <summary>The run is complete and its lease let go; a grown stored budget takes it up again.</summary>
    private void Finished()
    {
        Receive<Tick>(_ =>
        {
            if (++ticks % BudgetEveryTicks == 0) CallDatabase(() => new StoredBudget(storedBudget()));
        });
        Receive<StoredBudget>(b =>
        {
            calling = false;
            // A run whose settings are gone (null) is not taken up again.
            if (b.Budget is not { } budget || budget <= finished!.Budget) return;
            finished = null;
            Become(Acquiring);
        });
        AnswerFinishedStatus();
        Stale();
    }

    /// <summary>
    /// Answers of calls made in an earlier behaviour; and messages for a coordinator that is not
    /// running here now: dropped, as a coordinator's restart drops them (workers resend until answered),
    /// unless <paramref name="other"/> keeps them.
    /// </summary>
    private void Stale(Action? then = null, Action<object>? other = null)
    {
        Receive<LeaseAnswer>(_ => Answered(then));
        Receive<LeaseChecked>(_ => Answered(then));
        Receive<StoredBudget>(_ => Answered(then));
        Receive<CallFailed>(f =>
        {
            Failed(f);
            then?.Invoke();
        });
        ReceiveAny(other ?? (_ => { }));
    }

    private void Answered(Action? then)
    {
        calling = false;
        then?.Invoke();
    }

    /// <summary>
    /// The stored run's finished status; null also when it cannot be read for any reason: the
    /// writers then start as they always did, and the coordinator's recovery says what is wrong
    /// (the lease just taken must not be left held by a read that failed).
    /// </summary>
    private SearchStatus? FinishedAsStored()
    {
        try
        {
            return storedFinished();
        }
        catch (Exception)
        {
            return null;
        }
    }

    /// <summary>A database call that failed in a way its own answer does not cover: said, and tried again at the next tick.</summary>
    private void Failed(CallFailed f)
    {
        calling = false;
        log.Warning("run writer: a database call failed, trying again in {0} s: {1}", Every.TotalSeconds, f.Cause.Message);
    }


    /// <summary>Once finished, the last status answers for the coordinator (a search watching for the end sees it).</summary>
    private void AnswerFinishedStatus() => Receive<GetSearchStatus>(_ => finished is not null, _ => Sender.Tell(finished));

    /// <summary>One database call at a time, off the actor's thread; its answer comes back as a message.</summary>
    private void CallDatabase(Func<object> call)
    {
        if (calling) return;
        calling = true;
        Task.Run(call).PipeTo(Self, failure: e => new CallFailed(e));
    }
}
