using System.Diagnostics;
using NasActors.Training.Data;
using NasActors.Training.Kernels;
using NasActors.Training.Networks;
using NasActors.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace NasActors.Training;

/// <summary>Training speed of a network: images per second over timed SGD steps after warm-up.</summary>
public static class Throughput
{
    public sealed record Measurement(SearchSpace.CellCounts Cells, int Filters, int PenultimateFilters, long Parameters, long MultAdds, int Batch, int Steps, double Seconds,
        string Precision, bool ChannelsLast)
    {
        public double ImagesPerSecond => Batch * Steps / Seconds;
    }

    /// <param name="options">precision, memory order and cuDNN setting (the rest of it is ignored)</param>
    /// <param name="kernels">the convolutions' paths; by default those the device's check chose</param>
    public static Measurement Measure(NetworkPlan plan, ImageDataset data, Device device, int batch, int steps, int warmup = 2, TrainingConfig? options = null,
        KernelPlan? kernels = null)
    {
        var (mean, std) = data.ChannelStatistics();
        var batches = new Batches(data, mean, std);
        var config = (options ?? new TrainingConfig()) with { BatchSize = batch };
        kernels ??= DeviceKernels.Prepare(plan, batch, Math.Min(ChildTraining.EvalBatchSize, batch), device, config.Precision, config.ChannelsLast);
        torch.manual_seed(0);
        using var model = new NasNetwork(plan, kernels);
        using var master = ChildTraining.ToDevice(model, device, config);
        model.train();
        using var optimizer = new Tensors.Sgd(master?.Masters ?? model.parameters(), config.LearningRate, config.Momentum, config.WeightDecay);
        var clock = new Stopwatch();
        var done = 0;
        while (done < warmup + steps)
        {
            foreach (var b in batches.Epoch(batch, device, new Random(done)))
            {
                using var images = b.Images;
                using var labels = b.Labels;
                if (images.shape[0] != batch) continue;
                if (done == warmup) clock.Start();
                using (NewDisposeScope())
                {
                    var (loss, _) = ChildTraining.Step(model, optimizer, images, labels, config, config.LearningRate, master);
                    // Waiting for the value keeps asynchronous devices honest in the timing.
                    loss.item<float>();
                }
                if (++done == warmup + steps) break;
            }
        }
        clock.Stop();
        return new Measurement(plan.Config.Cells, plan.Config.Filters, plan.PenultimateFilters, plan.Parameters, plan.MultAdds, batch, steps, clock.Elapsed.TotalSeconds,
            config.Precision.Name(), config.ChannelsLast);
    }
}
