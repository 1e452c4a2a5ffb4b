using NasActors.Protocol.Messages;

namespace NasActors.ChildTrainer.Workers;

/// <summary>What training a child produced: a result, or the reason it failed.</summary>
public sealed record TrainOutcome(double Accuracy, double? TestAccuracy, double Loss, long Parameters, long MultAdds, double Seconds, string? FailureReason = null,
    string? DeviceFault = null)
{
    public static TrainOutcome Failure(string reason) => new(0, null, 0, 0, 0, 0, reason);

    /// <summary>The device computes wrong: the child is not at fault and its outcome must not count.</summary>
    public static TrainOutcome Faulty(string reason) => new(0, null, 0, 0, 0, 0, DeviceFault: reason);
}

/// <summary>
/// Trains one child synchronously on the calling thread (the worker gives it a thread of its own).
/// Exceptions are allowed: the worker turns them into a failed child and lives on.
/// </summary>
public interface IChildTrainer
{
    TrainOutcome Train(TrainChild job, string device, Action<int, int, double> progress, CancellationToken cancel);
}

public static class ChildTrainers
{
    /// <summary><c>torch</c>, <c>synthetic</c>, <c>synthetic:MS</c> (with a delay per child) or <c>exec:COMMAND</c>.</summary>
    public static IChildTrainer Create(string spec) => TrainerSpec.Parse(spec) switch
    {
        { Kind: TrainerKind.Torch } => new TorchChildTrainer(),
        { Kind: TrainerKind.Synthetic } s => new SyntheticChildTrainer(TimeSpan.FromMilliseconds(s.DelayMs)),
        var s => new ExecChildTrainer(s.Command),
    };
}
