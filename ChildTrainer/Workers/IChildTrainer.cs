using NasActors.ChildTrainer.Synthetic;
using NasActors.Protocol.Messages;

namespace NasActors.ChildTrainer.Workers;

/// <summary>
/// What training a child produced: a result, or the reason it failed. <see cref="ResumedEpochs"/>:
/// the epochs it did not train again, resumed from its checkpoint; <see cref="CheckpointProblem"/>:
/// what went wrong with its checkpoint (one found unusable and not resumed from, or one that could
/// not be written), in a sentence; the training went on.
/// </summary>
public sealed record TrainOutcome(double Accuracy, double? TestAccuracy, double Loss, long Parameters, long MultAdds, double Seconds, string? FailureReason = null,
    string? DeviceFault = null)
{
    public int ResumedEpochs { get; init; }

    public string? CheckpointProblem { get; init; }

    /// <summary>The folder where a final training's trained network was kept (null: none kept).</summary>
    public string? Weights { get; init; }

    /// <summary>The child's costs as measured before it trained (<see cref="CostMeter"/>; null: the trainer's own figures).</summary>
    public ChildCosts? Costs { get; init; }

    /// <summary>Over one of its job's bounds: never trained.</summary>
    public bool Refused { get; init; }

    public static TrainOutcome Failure(string reason) => new(0, null, 0, 0, 0, 0, reason);

    public static TrainOutcome Refusal(ChildCosts costs, double seconds) => new(0, null, 0, costs.Parameters, costs.MultAdds, seconds) { Costs = costs, Refused = true };

    /// <summary>The device computes wrong: the child is not at fault and its outcome must not count.</summary>
    public static TrainOutcome Faulty(string reason) => new(0, null, 0, 0, 0, 0, DeviceFault: reason);
}

/// <summary>
/// Trains one child synchronously on the calling thread (the worker gives it a thread of its own).
/// Exceptions are allowed: the worker turns them into a failed child and lives on.
/// </summary>
public interface IChildTrainer
{
    /// <param name="progress">After each epoch: the epoch, the epochs, and the validation accuracy where it was measured
    /// (every epoch in <see cref="TrainChild.Rungs"/> and the last; other epochs may go unmeasured).</param>
    TrainOutcome Train(TrainChild job, string device, Action<int, int, double?> progress, CancellationToken cancel);

    /// <summary>
    /// Proves the device's kernels right, as this trainer uses them: null when they are, else what
    /// is wrong (kernel and shape). <paramref name="again"/>: anew, forgetting what this process
    /// found before (a device that drifts); otherwise what this process already knows. Trainers
    /// that compute nothing in this process (synthetic, exec) have nothing to prove.
    /// </summary>
    string? CheckDevice(string device, bool again) => null;

    /// <summary>The child's outcome is stored (or it was stopped): its checkpoint, if this trainer keeps one, is no longer needed.</summary>
    void Forget(long childId, bool final)
    {
    }
}

/// <summary>
/// How often a worker proves its device again (null: only when it joins), and how often while the
/// device is unhealthy (it takes work again once it passes).
/// </summary>
public sealed record DeviceCheckCadence(TimeSpan? Every, TimeSpan WhileUnhealthy)
{
    /// <summary>HOCON <c>nas.trainer.device-check-every</c> (0: only when it joins) and <c>nas.trainer.unhealthy-check-every</c>.</summary>
    public static DeviceCheckCadence From(Akka.Configuration.Config config)
    {
        var every = config.GetTimeSpan("nas.trainer.device-check-every", TimeSpan.FromHours(1));
        var unhealthy = config.GetTimeSpan("nas.trainer.unhealthy-check-every", TimeSpan.FromMinutes(1));
        if (every < TimeSpan.Zero) throw new FormatException($"nas.trainer.device-check-every must be 0 (only when a worker joins) or a duration, not {every}");
        if (unhealthy <= TimeSpan.Zero) throw new FormatException($"nas.trainer.unhealthy-check-every must be a positive duration, not {unhealthy}");
        return new DeviceCheckCadence(every == TimeSpan.Zero ? null : every, unhealthy);
    }
}

public static class ChildTrainers
{
    /// <summary>A trainer from its text form (<see cref="TrainerSpec"/>); <paramref name="artifacts"/>: where children's checkpoints and finalists' networks are kept (null: none).</summary>
    public static IChildTrainer Create(string spec, string? artifacts = null) => TrainerSpec.Parse(spec) switch
    {
        { Kind: TrainerKind.Torch } => new TorchChildTrainer(artifacts),
        { Kind: TrainerKind.Synthetic } s => new SyntheticChildTrainer(TimeSpan.FromMilliseconds(s.DelayMs)),
        { Kind: TrainerKind.SyntheticCurves } s => new SyntheticCurvesTrainer(TimeSpan.FromMilliseconds(s.DelayMs), new SyntheticCurves(s.Correlation)),
        var s => new ExecChildTrainer(s.Command),
    };
}
