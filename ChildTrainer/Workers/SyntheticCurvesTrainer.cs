using NasActors.ChildTrainer.Synthetic;
using NasActors.Protocol.Messages;

namespace NasActors.ChildTrainer.Workers;

/// <summary>
/// The synthetic objective as learning curves (<see cref="SyntheticCurves"/>): one progress report
/// per epoch after <c>delay</c>, so that early stopping has epochs to judge and to save.
/// </summary>
public sealed class SyntheticCurvesTrainer(TimeSpan delay, SyntheticCurves curves) : IChildTrainer
{
    public TrainOutcome Train(TrainChild job, string device, Action<int, int, double?> progress, CancellationToken cancel)
    {
        var seed = job.Final ? 1 : 0;
        var epochs = job.Spec.Epochs;
        for (var epoch = 1; epoch <= epochs; epoch++)
        {
            if (delay > TimeSpan.Zero) cancel.WaitHandle.WaitOne(delay);
            cancel.ThrowIfCancellationRequested();
            progress(epoch, epochs, curves.Accuracy(job.Genotype, epoch, epochs, seed));
        }
        var accuracy = curves.Accuracy(job.Genotype, epochs, epochs, seed);
        return new TrainOutcome(accuracy, job.Final ? accuracy : null, 1 - accuracy, 0, 0, delay.TotalSeconds * epochs);
    }
}
