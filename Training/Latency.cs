using System.Diagnostics;
using NasActors.Training.Kernels;
using NasActors.Training.Networks;
using NasActors.Tensors;
using static TorchSharp.torch;

namespace NasActors.Training;

/// <summary>
/// A network's inference latency on a device: warm-up passes, then the median of timed passes
/// (at least <see cref="MinRuns"/>, and on until <see cref="MinSeconds"/> have been timed, at most
/// <see cref="MaxRuns"/>), in evaluation mode without gradients, in the training's precision and
/// memory order and on the kernel paths training uses, on one intra-op thread on a CPU. Each pass
/// waits for its result, so an asynchronous device is timed to the end of its work.
/// </summary>
public static class Latency
{
    public const int WarmupRuns = 3, MinRuns = 10, MaxRuns = 100;
    public const double MinSeconds = 0.2;

    /// <summary>The median of the timed passes, in milliseconds.</summary>
    public static double Measure(NetworkPlan plan, Device device, int batch, TrainingConfig? options = null, CancellationToken cancel = default)
    {
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(batch), $"latency batch must be at least 1, got {batch}");
        var config = options ?? new TrainingConfig();
        // What the last training left for the garbage collector is freed now, not by the finalizer thread during the timed passes.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var kernels = DeviceKernels.Prepare(plan, batch, batch, device, config.Precision, config.ChannelsLast);
        // On a CPU, one thread: timed with the process's threads, the same child measured 3x slower in a worker whose
        // other threads had used libtorch (bench/RESULTS.md); one thread is what a single request gets on a busy server.
        using var threads = device.type == TorchSharp.DeviceType.CPU ? TorchThreads.One() : default;
        using var scope = NewDisposeScope();
        manual_seed(0);
        var model = new NasNetwork(plan, kernels);
        ChildTraining.ToDevice(model, device, config);
        model.eval();
        using var noGrad = no_grad();
        var c = plan.Config;
        var input = ChildTraining.Input(randn([batch, c.InputChannels, c.ImageSize, c.ImageSize], device: device), config);
        for (var i = 0; i < WarmupRuns; i++) Pass();
        var runs = new List<double>();
        var clock = new Stopwatch();
        var total = Stopwatch.StartNew();
        while (runs.Count < MaxRuns && (runs.Count < MinRuns || total.Elapsed.TotalSeconds < MinSeconds))
        {
            cancel.ThrowIfCancellationRequested();
            clock.Restart();
            Pass();
            runs.Add(clock.Elapsed.TotalMilliseconds);
        }
        return Median(runs);

        void Pass()
        {
            using var inner = NewDisposeScope();
            // Reading one value waits for the device to finish the pass.
            model.forward(input).sum().to_type(ScalarType.Float32).cpu().item<float>();
        }
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
