using System.Collections.Concurrent;
using System.Diagnostics;

namespace NasActors.ChildTrainer.Workers;

/// <summary>
/// Timings the workers of a node report, for benchmarks: how long from sending a result to
/// receiving the next job (dispatch latency), and when the first job arrived.
/// </summary>
public sealed class WorkerMetrics
{
    private readonly TaskCompletionSource<long> firstJob = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ConcurrentQueue<double> DispatchMilliseconds { get; } = new();

    /// <summary>Completes with the <see cref="Stopwatch"/> timestamp of the first job any worker received.</summary>
    public Task<long> FirstJob => firstJob.Task;

    internal void JobArrived(long? reportedAt)
    {
        var now = Stopwatch.GetTimestamp();
        firstJob.TrySetResult(now);
        if (reportedAt is { } t) DispatchMilliseconds.Enqueue(Stopwatch.GetElapsedTime(t, now).TotalMilliseconds);
    }
}
