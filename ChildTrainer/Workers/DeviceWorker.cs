using Akka.Actor;
using Akka.Event;
using NasActors.Protocol.Messages;

namespace NasActors.ChildTrainer.Workers;

/// <summary>
/// One worker on one device: registers with the coordinator, pulls jobs, trains each on a thread
/// of its own, streams per-epoch progress and reports the outcome until the coordinator confirms
/// it. Whatever the trainer throws becomes a failed child; the worker lives on. Every request is
/// repeated until answered, so a coordinator that moves or restarts loses nothing.
/// </summary>
public sealed class DeviceWorker : ReceiveActor, IWithTimers
{
    private static readonly TimeSpan Retry = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan IdlePoll = TimeSpan.FromMilliseconds(250);

    private sealed record Trained(TrainChild Job, TrainOutcome Outcome);
    private sealed record Resend(object Message);
    private sealed record AskForWork;
    private sealed record Register;
    private sealed record Claim;

    private readonly string workerId;
    private readonly string device;
    private readonly IChildTrainer trainer;
    private readonly IActorRef coordinator;
    private readonly WorkerMetrics? metrics;
    private readonly ILoggingAdapter log = Context.GetLogger();
    private CancellationTokenSource? training;
    private long? reportedAt;

    public DeviceWorker(string workerId, string device, IChildTrainer trainer, IActorRef coordinator, WorkerMetrics? metrics = null)
    {
        (this.workerId, this.device, this.trainer, this.coordinator, this.metrics) = (workerId, device, trainer, coordinator, metrics);
        Registering();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string workerId, string device, IChildTrainer trainer, IActorRef coordinator, WorkerMetrics? metrics = null) =>
        Akka.Actor.Props.Create(() => new DeviceWorker(workerId, device, trainer, coordinator, metrics));

    protected override void PreStart() => Timers.StartPeriodicTimer("register", new Register(), TimeSpan.Zero, Retry);

    private void Registering()
    {
        Receive<Register>(_ => coordinator.Tell(new RegisterWorker(workerId, device, trainer.GetType().Name)));
        Receive<WorkerRegistered>(_ =>
        {
            Timers.Cancel("register");
            BecomeIdle();
        });
    }

    private void BecomeIdle()
    {
        Become(Idle);
        Self.Tell(new AskForWork());
    }

    private void Idle()
    {
        Receive<AskForWork>(_ =>
        {
            coordinator.Tell(new RequestWork(workerId));
            Timers.StartSingleTimer("work", new AskForWork(), Retry);
        });
        Receive<NoWork>(n => Timers.StartSingleTimer("work", new AskForWork(), n.Finished ? Retry : IdlePoll));
        Receive<TrainChild>(Start);
        Receive<WorkerRegistered>(_ => { });
        Receive<ResultRecorded>(_ => { });
    }

    private void Start(TrainChild job)
    {
        metrics?.JobArrived(reportedAt);
        Timers.Cancel("work");
        training = new CancellationTokenSource();
        // Claims the child for as long as it trains, so that a restarted coordinator leaves it here.
        Timers.StartPeriodicTimer("claim", new Claim(), Retry);
        var cancel = training.Token;
        var self = Self;
        var target = coordinator;
        Task.Factory.StartNew(
                () => trainer.Train(job, device,
                    (epoch, epochs, accuracy) => target.Tell(new ChildProgress(job.ChildId, job.Final, workerId, epoch, epochs, accuracy)), cancel),
                cancel, TaskCreationOptions.LongRunning, TaskScheduler.Default)
            .PipeTo(self,
                success: outcome => new Trained(job, outcome),
                failure: e => new Trained(job, TrainOutcome.Failure($"trainer crashed: {Describe(e)}")));
        Become(() => Busy(job));
    }

    private void Busy(TrainChild job)
    {
        Receive<Claim>(_ => coordinator.Tell(new StillTraining(workerId, job.ChildId, job.Final)));
        Receive<Trained>(t => t.Job.ChildId == job.ChildId && t.Job.Final == job.Final, t =>
        {
            Timers.Cancel("claim");
            training?.Dispose();
            training = null;
            var o = t.Outcome;
            if (o.DeviceFault is { } fault)
            {
                // No reward from a device that computes wrong: the worker stops and the coordinator,
                // which watches it, requeues the child for a worker whose device computes right.
                log.Error("{0}: device computes wrong, the worker stops and child {1} goes back to the queue: {2}", workerId, job.ChildId, fault);
                Context.Stop(Self);
                return;
            }
            object report = o.FailureReason is { } reason
                ? new ChildFailure(job.ChildId, job.Final, workerId, reason)
                : new ChildResult(job.ChildId, job.Final, workerId, o.Accuracy, o.TestAccuracy, o.Loss, o.Parameters, o.MultAdds, o.Seconds);
            reportedAt = System.Diagnostics.Stopwatch.GetTimestamp();
            coordinator.Tell(report);
            Timers.StartPeriodicTimer("report", new Resend(report), Retry);
            Become(() => Reporting(job));
        });
        Receive<TrainChild>(other => log.Warning("{0} is busy with child {1}; job for child {2} refused", workerId, job.ChildId, other.ChildId));
        ReceiveAny(_ => { });
    }

    private void Reporting(TrainChild job)
    {
        Receive<Resend>(r => coordinator.Tell(r.Message));
        Receive<ResultRecorded>(r => r.ChildId == job.ChildId && r.Final == job.Final, r =>
        {
            Timers.Cancel("report");
            if (!r.JobFollows)
            {
                BecomeIdle();
                return;
            }
            // The next job is on its way; ask only if it does not come.
            Become(Idle);
            Timers.StartSingleTimer("work", new AskForWork(), Retry);
        });
        ReceiveAny(_ => { });
    }

    private static string Describe(Exception e)
    {
        var inner = e is AggregateException { InnerException: { } i } ? i : e;
        return $"{inner.GetType().Name}: {inner.Message}";
    }

    protected override void PostStop()
    {
        training?.Cancel();
        base.PostStop();
    }
}
