using NasActors.Protocol;
using NasActors.Protocol.Messages;
using NasActors.Training;
using NasActors.Training.Data;
using NasActors.Training.Networks;

namespace NasActors.ChildTrainer.Workers;

/// <summary>
/// Measures a child before any trainer trains it: parameters and mult-adds from its network's plan
/// at the job's settings and the dataset's shape (for every trainer, so an <c>exec:</c> trainer's
/// children have them too), and, when the job asks, its inference latency on the worker's device.
/// A child over one of its job's bounds is refused: the trainer never sees it.
/// </summary>
public static class CostMeter
{
    /// <summary>Measures, then trains within the bounds: the trainer's outcome with the measured costs, or a refusal.</summary>
    /// <param name="measured">told the costs before training starts (its rungs carry them)</param>
    public static TrainOutcome Train(IChildTrainer trainer, TrainChild job, string device, Action<int, int, double?> progress, CancellationToken cancel,
        Action<ChildCosts>? measured = null)
    {
        ChildCosts? costs;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            costs = Measure(job, device, cancel);
        }
        catch (Training.Kernels.DeviceFaultException e)
        {
            return TrainOutcome.Faulty(e.Message);
        }
        catch (Exception e) when (e is InputException or DatasetFormatException && job.Costs is null)
        {
            // Costs nobody asked for, of a network the trainer may not build as nas does (an exec: trainer's own dataset): the trainer's own figures stand.
            costs = null;
        }
        catch (Exception e) when (e is InputException or DatasetFormatException)
        {
            return TrainOutcome.Failure($"its costs could not be measured: {e.Message}");
        }
        if (costs is not null && costs.Exceeded(job.Costs?.Bounds).Count > 0)
            return TrainOutcome.Refusal(costs, clock.Elapsed.TotalSeconds);
        if (costs is not null) measured?.Invoke(costs);
        var outcome = trainer.Train(job, device, progress, cancel);
        return costs is null || outcome.DeviceFault is not null ? outcome : outcome with { Costs = costs };
    }

    /// <summary>The child's costs (latency only when its job asks for it).</summary>
    public static ChildCosts Measure(TrainChild job, string device, CancellationToken cancel = default)
    {
        var spec = job.Spec;
        var (channels, size, classes) = DatasetSpec.Parse(spec.Dataset).Shape(spec.Image);
        var plan = NetworkPlan.Create(new NetworkConfig(job.Genotype, spec.Cells, spec.Filters, classes, channels, size, NetworkConfig.StemFor(size),
            DropPathKeep: spec.DropPathKeep));
        if (job.Costs?.LatencyBatch is not { } batch) return new ChildCosts(plan.Parameters, plan.MultAdds);
        using var native = Tensors.NativeWork.Enter();
        var config = new TrainingConfig
        {
            Precision = Tensors.Precisions.Parse(spec.Precision), ChannelsLast = spec.ChannelsLast, CudnnBenchmark = spec.CudnnBenchmark,
        };
        var latency = Latency.Measure(plan, TorchRuntime.ParseDevice(device), batch, config, cancel);
        return new ChildCosts(plan.Parameters, plan.MultAdds, Math.Round(latency, 4), device);
    }
}
