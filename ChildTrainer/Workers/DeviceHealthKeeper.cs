using Akka.Actor;
using Akka.Event;
using NasActors.Protocol.Messages;

namespace NasActors.ChildTrainer.Workers;

/// <summary>
/// A worker's device health, apart from its jobs (a child of its <see cref="DeviceWorker"/>): the
/// device is proven right when the worker joins and again at the <see cref="DeviceCheckCadence"/>.
/// A device that fails, or that a child finds computing wrong, is unhealthy: the worker is told to
/// drop what it trains and take no work, the coordinator is told until it has recorded it, and the
/// device is checked again until it passes; then the coordinator is told it is healthy and, once
/// that is recorded, the worker may take work. What goes to the coordinator goes in the worker's
/// name (the coordinator knows a worker by its actor), so its answers reach the worker, which hands them on.
/// </summary>
public sealed class DeviceHealthKeeper : ReceiveActor, IWithTimers
{
    /// <summary>To the worker: the device is healthy and the coordinator knows it: take work.</summary>
    public sealed record Ready;

    /// <summary>To the worker: the device computes wrong: drop the child in training, report nothing, take no work.</summary>
    public sealed record Sick(string Problem);

    /// <summary>From the worker: a child in training found the device computing wrong.</summary>
    public sealed record FaultFound(string Problem);

    private sealed record CheckDevice;
    private sealed record DeviceChecked(string? Problem, int Episode);
    private sealed record Resend(object Message);

    private readonly string workerId;
    private readonly string device;
    private readonly IChildTrainer trainer;
    private readonly IActorRef coordinator;
    private readonly DeviceCheckCadence cadence;
    private readonly ILoggingAdapter log = Context.GetLogger();
    private bool checking;
    // Counts unhealthy episodes: a check started before the device was found wrong says nothing about it since.
    private int episode;

    public DeviceHealthKeeper(string workerId, string device, IChildTrainer trainer, IActorRef coordinator, DeviceCheckCadence cadence)
    {
        (this.workerId, this.device, this.trainer, this.coordinator, this.cadence) = (workerId, device, trainer, coordinator, cadence);
        Joining();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string workerId, string device, IChildTrainer trainer, IActorRef coordinator, DeviceCheckCadence cadence) =>
        Akka.Actor.Props.Create(() => new DeviceHealthKeeper(workerId, device, trainer, coordinator, cadence));

    // Proven when it joins (what the process already knows: a node checks before joining),
    // healthy only once the coordinator knows it (it may remember this worker as unhealthy).
    protected override void PreStart() => StartCheck(again: false);

    private void Joining()
    {
        Receive<DeviceChecked>(c =>
        {
            if (Current(c) is not { } now) return;
            if (now.Problem is { } problem) BecomeUnhealthy(problem);
            else BecomeRecovering();
        });
        ReceiveAny(_ => { });
    }

    /// <summary>Passed: says so until the coordinator has recorded it, then lets the worker work.</summary>
    private void BecomeRecovering()
    {
        Tell(new DeviceHealthy(workerId));
        Become(() =>
        {
            Receive<DeviceHealthRecorded>(r => r.Healthy, _ =>
            {
                Timers.Cancel("health");
                Schedule(cadence.Every);
                Context.Parent.Tell(new Ready());
                Become(Healthy);
            });
            Healthy();
        });
    }

    /// <summary>The periodic check, and a fault a child found: either makes the device unhealthy.</summary>
    private void Healthy()
    {
        Receive<Resend>(r => coordinator.Tell(r.Message, Context.Parent));
        Receive<CheckDevice>(_ => StartCheck(again: true));
        Receive<DeviceChecked>(c =>
        {
            if (Current(c)?.Problem is { } problem) BecomeUnhealthy(problem);
        });
        Receive<FaultFound>(f => BecomeUnhealthy(f.Problem));
        ReceiveAny(_ => { });
    }

    private void BecomeUnhealthy(string problem)
    {
        episode++;
        log.Error("{0}: device unhealthy, it takes no work until it passes its check again: {1}", workerId, problem);
        Context.Parent.Tell(new Sick(problem));
        Tell(new DeviceUnhealthy(workerId, problem));
        Schedule(cadence.WhileUnhealthy);
        Become(() =>
        {
            Receive<Resend>(r => coordinator.Tell(r.Message, Context.Parent));
            Receive<DeviceHealthRecorded>(r => !r.Healthy, _ => Timers.Cancel("health"));
            Receive<CheckDevice>(_ => StartCheck(again: true));
            Receive<DeviceChecked>(c =>
            {
                if (Current(c) is { Problem: null }) BecomeRecovering();
            });
            ReceiveAny(_ => { });
        });
    }

    /// <summary>Tells the coordinator (in the worker's name) until it answers.</summary>
    private void Tell(object message)
    {
        coordinator.Tell(message, Context.Parent);
        Timers.StartPeriodicTimer("health", new Resend(message), DeviceWorker.Retry);
    }

    private void Schedule(TimeSpan? every)
    {
        if (every is { } e) Timers.StartPeriodicTimer("check", new CheckDevice(), e);
        else Timers.Cancel("check");
    }

    /// <summary>Runs the device's check off the message loop (one at a time); the outcome comes back as <see cref="DeviceChecked"/>.</summary>
    private void StartCheck(bool again)
    {
        if (checking) return;
        checking = true;
        var started = episode;
        Task.Run(() => trainer.CheckDevice(device, again))
            .PipeTo(Self, success: problem => new DeviceChecked(problem, started),
                failure: e => new DeviceChecked($"the device check crashed: {DeviceWorker.Describe(e)}", started));
    }

    /// <summary>A check's outcome, or null for one started before the latest episode began (its outcome is stale).</summary>
    private DeviceChecked? Current(DeviceChecked c)
    {
        checking = false;
        return c.Episode == episode ? c : null;
    }
}
