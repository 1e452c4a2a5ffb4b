using NasActors.ChildTrainer.Synthetic;
using NasActors.Protocol.Messages;

namespace NasActors.ChildTrainer.Workers;

/// <summary>The built-in instant objective (<see cref="SyntheticObjective"/>), optionally taking <c>delay</c> per child.</summary>
public sealed class SyntheticChildTrainer(TimeSpan delay) : IChildTrainer
{
    public TrainOutcome Train(TrainChild job, string device, Action<int, int, double?> progress, CancellationToken cancel)
    {
        if (delay > TimeSpan.Zero) cancel.WaitHandle.WaitOne(delay);
        cancel.ThrowIfCancellationRequested();
        var accuracy = SyntheticObjective.Accuracy(job.Genotype, job.Final ? 1 : 0);
        progress(1, 1, accuracy);
        return new TrainOutcome(accuracy, job.Final ? accuracy : null, 1 - accuracy, 0, 0, delay.TotalSeconds);
    }
}
