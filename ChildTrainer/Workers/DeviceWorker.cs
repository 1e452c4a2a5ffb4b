using Akka.Actor;
using Akka.Event;
using NasActors.Protocol;
using NasActors.Protocol.Messages;

namespace NasActors.ChildTrainer.Workers;

/// <summary>
/// One worker on one device: registers with the coordinator, pulls jobs, trains each on a thread
/// of its own, streams per-epoch progress and reports the outcome until the coordinator confirms
/// it. Whatever the trainer throws becomes a failed child; the worker lives on. Every request is
/// repeated until answered, so a coordinator that moves or restarts loses nothing.
/// Its device's health is kept apart, by its <see cref="DeviceHealthKeeper"/>: the worker takes work
/// only once that says <see cref="DeviceHealthKeeper.Ready"/>, and when it says
/// <see cref="DeviceHealthKeeper.Sick"/> the worker drops what it trains, reports nothing and takes no work.
/// </summary>
public sealed class DeviceWorker : ReceiveActor, IWithTimers, IWithStash
{
    /// <summary>How often a worker (and its device's keeper) repeats a message the coordinator has not answered.</summary>
    internal static readonly TimeSpan Retry = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan IdlePoll = TimeSpan.FromMilliseconds(250);

    private sealed record Trained(TrainChild Job, TrainOutcome Outcome);
    private sealed record Resend(object Message);
    private sealed record AskForWork;
    private sealed record Register;
    private sealed record Claim;
    private sealed record AtRung(TrainChild Job, RungReached Report);

    private readonly string workerId;
    private readonly string device;
    private readonly IChildTrainer trainer;
    private readonly IActorRef coordinator;
    private readonly WorkerMetrics? metrics;
    private readonly DeviceCheckCadence cadence;
    private readonly ILoggingAdapter log = Context.GetLogger();
    private CancellationTokenSource? training;
    private long? reportedAt;
    private IActorRef health = ActorRefs.Nobody;
    // Rung reports not yet decided (their resend timers), the values the child measured at its rungs
    // (they travel with its report), and whether the coordinator stopped the child in training.
    private readonly HashSet<string> rungTimers = [];
    private readonly List<RungValue> rungValues = [];
    private bool stopped;
    // The coordinator sent the next job with the stop: it may arrive before the stopped training has ended.
    private bool jobFollows;

    public DeviceWorker(string workerId, string device, IChildTrainer trainer, IActorRef coordinator, WorkerMetrics? metrics = null,
        DeviceCheckCadence? cadence = null)
    {
        (this.workerId, this.device, this.trainer, this.coordinator, this.metrics) = (workerId, device, trainer, coordinator, metrics);
        this.cadence = cadence ?? new DeviceCheckCadence(null, TimeSpan.FromMinutes(1));
        Registering();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public IStash Stash { get; set; } = null!;

    public static Props Props(string workerId, string device, IChildTrainer trainer, IActorRef coordinator, WorkerMetrics? metrics = null,
        DeviceCheckCadence? cadence = null) =>
        Akka.Actor.Props.Create(() => new DeviceWorker(workerId, device, trainer, coordinator, metrics, cadence));

    protected override void PreStart() => Timers.StartPeriodicTimer("register", new Register(), TimeSpan.Zero, Retry);

    private void Registering()
    {
        Receive<Register>(_ => coordinator.Tell(new RegisterWorker(workerId, device, trainer.GetType().Name)));
        Receive<WorkerRegistered>(_ =>
        {
            Timers.Cancel("register");
            health = Context.ActorOf(DeviceHealthKeeper.Props(workerId, device, trainer, coordinator, cadence), "health");
            Become(() => Waiting(sick: false));
        });
    }

    /// <summary>Joining, or unhealthy: no work until the device's keeper says it is ready.</summary>
    private void Waiting(bool sick)
    {
        Health();
        if (sick) Receive<TrainChild>(job => log.Warning("{0}: device unhealthy; job for child {1} refused", workerId, job.ChildId));
        ReceiveAny(_ => { });
    }

    /// <summary>In every behaviour after joining: the keeper's word, and the coordinator's answers to it.</summary>
    private void Health()
    {
        Receive<DeviceHealthRecorded>(r => health.Forward(r));
        Receive<DeviceHealthKeeper.Ready>(_ => BecomeIdle());
        Receive<DeviceHealthKeeper.Sick>(_ => Drop());
    }

    private void BecomeIdle()
    {
        Become(Idle);
        Self.Tell(new AskForWork());
    }

    /// <summary>
    /// No reward from a device that computes wrong: the child in training is dropped (the
    /// coordinator requeues it when it records the worker unhealthy), nothing is reported, and no
    /// work is asked for until the keeper says the device is ready again.
    /// </summary>
    private void Drop()
    {
        foreach (var timer in new[] { "work", "claim", "report" }) Timers.Cancel(timer);
        CancelRungTimers();
        training?.Cancel();
        training = null;
        // A next job held for after a stop goes to Waiting, which refuses it (the coordinator requeues it).
        Stash.UnstashAll();
        Become(() => Waiting(sick: true));
    }

    // ---- work ----

    private void Idle()
    {
        Health();
        Receive<AskForWork>(_ =>
        {
            coordinator.Tell(new RequestWork(workerId));
            Timers.StartSingleTimer("work", new AskForWork(), Retry);
        });
        Receive<NoWork>(n => Timers.StartSingleTimer("work", new AskForWork(), n.Finished ? Retry : IdlePoll));
        Receive<TrainChild>(Start);
        Receive<WorkerRegistered>(_ => { });
        Receive<ResultRecorded>(_ => { });
        Receive<RungDecided>(_ => { });
    }

    private void Start(TrainChild job)
    {
        metrics?.JobArrived(reportedAt);
        Timers.Cancel("work");
        training = new CancellationTokenSource();
        (stopped, jobFollows) = (false, false);
        rungValues.Clear();
        // Claims the child for as long as it trains, so that a restarted coordinator leaves it here.
        Timers.StartPeriodicTimer("claim", new Claim(), Retry);
        var cancel = training.Token;
        var self = Self;
        var target = coordinator;
        // Measured on the training thread before the first epoch; the rungs after it read it there.
        ChildCosts? costs = null;
        Task.Factory.StartNew(
                () => CostMeter.Train(trainer, job, device,
                    (epoch, epochs, accuracy) =>
                    {
                        target.Tell(new ChildProgress(job.ChildId, job.Final, workerId, epoch, epochs, accuracy));
                        // At a rung the coordinator decides whether the child goes on; it trains on meanwhile.
                        // Only a number: the wire format refuses NaN and infinities, and a report that cannot travel would be resent for ever.
                        if (accuracy is { } a && double.IsFinite(a) && job.Rungs?.Contains(epoch) == true)
                            self.Tell(new AtRung(job, new RungReached(workerId, job.ChildId, epoch, a) { Costs = job.Costs is null ? null : costs }));
                    }, cancel, measured: c => costs = c),
                cancel, TaskCreationOptions.LongRunning, TaskScheduler.Default)
            .PipeTo(self,
                success: outcome => new Trained(job, outcome),
                failure: e => new Trained(job, TrainOutcome.Failure($"trainer crashed: {Describe(e)}")));
        Become(() => Busy(job));
    }

    private void Busy(TrainChild job)
    {
        Health();
        Receive<Claim>(_ => coordinator.Tell(new StillTraining(workerId, job.ChildId, job.Final)));
        Receive<AtRung>(r => ReferenceEquals(r.Job, job) && !stopped, r =>
        {
            rungValues.Add(new RungValue(r.Report.Epoch, r.Report.Accuracy));
            var report = r.Report with { Rungs = rungValues.ToList() };
            coordinator.Tell(report);
            var timer = $"rung:{report.Epoch}";
            rungTimers.Add(timer);
            Timers.StartPeriodicTimer(timer, new Resend(report), Retry);
        });
        Receive<Resend>(r => r.Message is RungReached, r => coordinator.Tell(r.Message));
        Receive<RungDecided>(d => d.ChildId == job.ChildId && !job.Final, d =>
        {
            Timers.Cancel($"rung:{d.Epoch}");
            rungTimers.Remove($"rung:{d.Epoch}");
            if (!d.Stop || stopped) return;
            // Stopped early: its outcome is stored (the rung's value); the worker frees its device and takes the next job.
            (stopped, jobFollows) = (true, d.JobFollows);
            CancelRungTimers();
            training?.Cancel();
        });
        // This very job: a dropped attempt at the same child may still end later.
        Receive<Trained>(t => ReferenceEquals(t.Job, job), t =>
        {
            Timers.Cancel("claim");
            CancelRungTimers();
            training?.Dispose();
            training = null;
            var o = t.Outcome;
            if (o.DeviceFault is { } fault)
            {
                // Found at the child's own shapes: the child goes back to the queue for a device that computes right.
                health.Tell(new DeviceHealthKeeper.FaultFound(fault));
                Drop();
                return;
            }
            if (o.CheckpointProblem is { } problem)
                log.Warning("{0}: child {1}: {2}", workerId, job.ChildId, problem);
            if (stopped)
            {
                Forget(job);
                reportedAt = System.Diagnostics.Stopwatch.GetTimestamp();
                if (!jobFollows)
                {
                    BecomeIdle();
                    return;
                }
                // The next job came with the stop (it may be held already); ask only if it does not come.
                Become(Idle);
                Stash.UnstashAll();
                Timers.StartSingleTimer("work", new AskForWork(), Retry);
                return;
            }
            // The rungs' values go with it: a rung whose answer never came is decided before the outcome is stored.
            var values = rungValues.Count > 0 ? rungValues.ToList() : null;
            WorkerReport report = o switch
            {
                { Refused: true } => new ChildRefusal(job.ChildId, workerId, o.Costs!, o.Seconds),
                { FailureReason: { } reason } => new ChildFailure(job.ChildId, job.Final, workerId, reason) { Rungs = values, Costs = values is null || job.Costs is null ? null : o.Costs },
                _ => new ChildResult(job.ChildId, job.Final, workerId, o.Accuracy, o.TestAccuracy, o.Loss, o.Costs?.Parameters ?? o.Parameters,
                    o.Costs?.MultAdds ?? o.MultAdds, o.Seconds)
                {
                    Rungs = values, ResumedEpochs = o.ResumedEpochs > 0 ? o.ResumedEpochs : null, Weights = o.Weights,
                    Costs = o.Costs,
                },
            };
            reportedAt = System.Diagnostics.Stopwatch.GetTimestamp();
            coordinator.Tell(report);
            Timers.StartPeriodicTimer("report", new Resend(report), Retry);
            Become(() => Reporting(job));
        });
        // The job that came with a stop, before the stopped training has ended: held until it has.
        Receive<TrainChild>(_ => stopped && jobFollows, _ => Stash.Stash());
        Receive<TrainChild>(other => log.Warning("{0} is busy with child {1}; job for child {2} refused", workerId, job.ChildId, other.ChildId));
        ReceiveAny(_ => { });
    }

    private void Reporting(TrainChild job)
    {
        Health();
        Receive<Resend>(r => coordinator.Tell(r.Message));
        Receive<ResultRecorded>(r => r.ChildId == job.ChildId && r.Final == job.Final, r =>
        {
            Timers.Cancel("report");
            Forget(job);
            if (!r.JobFollows)
            {
                BecomeIdle();
                Stash.UnstashAll();
                return;
            }
            // The next job is on its way; ask only if it does not come.
            Become(Idle);
            Stash.UnstashAll();
            Timers.StartSingleTimer("work", new AskForWork(), Retry);
        });
        // A job sent with a stop that lost the race with the training's end: taken once the result is acknowledged.
        Receive<TrainChild>(_ => Stash.Stash());
        ReceiveAny(_ => { });
    }

    /// <summary>The child's outcome is stored: the checkpoint it could have resumed from goes (a failure to delete costs space, not the run).</summary>
    private void Forget(TrainChild job)
    {
        try
        {
            trainer.Forget(job.ChildId, job.Final);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.Warning("{0}: child {1}'s checkpoint could not be deleted: {2}", workerId, job.ChildId, e.Message);
        }
    }

    private void CancelRungTimers()
    {
        foreach (var timer in rungTimers) Timers.Cancel(timer);
        rungTimers.Clear();
    }

    internal static string Describe(Exception e)
    {
        var inner = e is AggregateException { InnerException: { } i } ? i : e;
        // The user's own settings are said as such; a type name is for faults of ours.
        return inner is InputException ? $"invalid settings: {inner.Message}" : $"{inner.GetType().Name}: {inner.Message}";
    }

    protected override void PostStop()
    {
        training?.Cancel();
        base.PostStop();
    }
}
