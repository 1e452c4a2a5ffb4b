using Akka.Actor;
using Akka.Event;
using NasActors.Persistence;

namespace NasActors.Node.Hosting;

/// <summary>
/// The cluster singleton: holds the run's writer lease and, only while it holds it, runs the run's
/// writers (the coordinator under its backoff supervisor, and the evaluator), forwarding the
/// coordinator's messages to it. Lifecycle in two behaviours: acquiring (retries every second,
/// messages dropped: workers resend) and writing (checks the lease; losing it, e.g. the database
/// connection, stops both writers before anyone else can take over).
/// </summary>
public sealed class RunWriter : ReceiveActor, IWithTimers
{
    private sealed record Tick;

    private static readonly TimeSpan Every = TimeSpan.FromSeconds(1);
    private readonly IWriterLease lease;
    private readonly Func<IUntypedActorContext, int, IActorRef> startWriters;
    private readonly ILoggingAdapter log = Context.GetLogger();
    private IActorRef? coordinator;
    private string? waitingFor;
    private int generation;

    /// <param name="startWriters">Starts the coordinator and the evaluator as children, named with the generation (stopped ones may not be gone yet); returns where coordinator messages go.</param>
    public RunWriter(IWriterLease lease, Func<IUntypedActorContext, int, IActorRef> startWriters)
    {
        this.lease = lease;
        this.startWriters = startWriters;
        Acquiring();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IWriterLease lease, Func<IUntypedActorContext, int, IActorRef> startWriters) =>
        Akka.Actor.Props.Create(() => new RunWriter(lease, startWriters));

    protected override void PreStart() => Timers.StartPeriodicTimer("lease", new Tick(), TimeSpan.Zero, Every);

    protected override void PostStop() => lease.Dispose();

    private void Acquiring()
    {
        Receive<Tick>(_ =>
        {
            string? holder;
            try
            {
                holder = lease.TryAcquire();
            }
            catch (RunStoreException e)
            {
                holder = e.Message;
            }
            if (holder is null)
            {
                waitingFor = null;
                coordinator = startWriters(Context, ++generation);
                Become(Writing);
            }
            else if (holder != waitingFor)
            {
                // Once per holder: a standby waits here for as long as the active coordinator lives.
                log.Warning("waiting for the run's writer lease ({0})", holder);
                waitingFor = holder;
            }
        });
        ReceiveAny(_ => { });
    }

    private void Writing()
    {
        Receive<Tick>(_ =>
        {
            if (lease.StillHeld()) return;
            log.Error("lost the run's writer lease (database connection lost); stopping the coordinator until it is back");
            foreach (var child in Context.GetChildren()) Context.Stop(child);
            coordinator = null;
            lease.Dispose();
            Become(Acquiring);
        });
        ReceiveAny(m => coordinator.Forward(m));
    }
}
