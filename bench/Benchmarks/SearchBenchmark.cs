using System.Diagnostics;
using System.Runtime;
using NasActors.ChildTrainer.Workers;
using NasActors.Hosting;
using NasActors.Persistence;
using NasActors.Search;

namespace NasActors.Bench;

/// <summary>The control plane's figures: throughput, dispatch latency, journal size, recovery and status-read time.</summary>
public sealed record SearchBenchmarkResult(
    string Journal, string Strategy, int Children, int Workers, double ChildrenPerS, double SearchS,
    double? DispatchP50Ms, double? DispatchP90Ms, double? DispatchP99Ms, double DispatchMaxMs, double? WarmDispatchP50Ms, double? WarmDispatchP99Ms,
    double JournalBytesPerChild, long JournalBytes, long SnapshotBytes, double RecoveryToFirstDispatchS, double StatusReadS,
    double ResidentMb, double AnonymousMb, double PeakResidentMb, double LiveManagedMb, double StateMb);

/// <summary>
/// A whole search with the synthetic trainer in this process, then its recovery: the control plane
/// alone (journal, coordinator, workers), with no training cost. Its memory is taken when the
/// search has finished, with the node still up (its coordinator stopped, as a finished run's is):
/// the process's resident set as the run left it, its anonymous part (without mapped files such as
/// libtorch's code), its peak, and what the managed heap holds after
/// a full collection that also compacts the large-object heap (without that, free space between
/// large objects counts as held). The coordinator's state is measured apart: the finished run's
/// state read from the store and held, as the coordinator holds it.
/// </summary>
public static class SearchBenchmark
{
    public static async Task<SearchBenchmarkResult> RunAsync(RunStore store, SearchSettings settings, CancellationToken cancel)
    {
        store.WriteSettings(settings);
        var metrics = new WorkerMetrics();
        double searchSeconds, residentMb, peakMb, anonymousMb, liveMb;
        await using (var node = await SearchNode.StartAsync(store, settings, cancel, metrics))
        {
            var first = await metrics.FirstJob.WaitAsync(TimeSpan.FromMinutes(1), cancel);
            while ((await node.StatusAsync())?.Finished != true) await Task.Delay(100, cancel);
            searchSeconds = Stopwatch.GetElapsedTime(first).TotalSeconds;
            residentMb = Math.Round(Environment.WorkingSet / 1048576.0, 1);
            peakMb = Math.Round((ProcessMemory.Status("VmHWM") ?? 0) / 1048576.0, 1);
            anonymousMb = Math.Round((ProcessMemory.Status("RssAnon") ?? 0) / 1048576.0, 1);
            liveMb = Math.Round(LiveBytes() / 1048576.0, 1);
        }
        store.AfterStop();
        var (journalBytes, snapshotBytes) = store.StoredBytes();

        // What nas status does: the latest snapshot and the events after it, straight from the store.
        var read = Stopwatch.StartNew();
        SearchViews.Summary(store.ReadState(), DateTimeOffset.UtcNow);
        var statusSeconds = read.Elapsed.TotalSeconds;
        var before = LiveBytes();
        var held = store.ReadState();
        var stateMb = Math.Round((LiveBytes() - before) / 1048576.0, 1);
        GC.KeepAlive(held);

        // Recovery: a new node on the finished run, one more child to do; time to its dispatch.
        var more = settings with { Budget = settings.Budget + 1 };
        store.WriteSettings(more);
        var again = new WorkerMetrics();
        var start = Stopwatch.GetTimestamp();
        double recoverySeconds;
        await using (var node = await SearchNode.StartAsync(store, more, cancel, again))
            recoverySeconds = Stopwatch.GetElapsedTime(start, await again.FirstJob.WaitAsync(TimeSpan.FromMinutes(2), cancel)).TotalSeconds;

        var inOrder = metrics.DispatchMilliseconds.ToArray();
        var latencies = inOrder.Order().ToArray();
        // The first 1,000 dispatches include JIT compilation and the cluster settling.
        var warm = inOrder.Skip(1000).Order().ToArray();
        // Null where there is nothing to measure (no warm dispatches in a run of under 1,000 children): JSON has no NaN.
        static double? At(double[] sorted, double p) => sorted.Length == 0 ? null : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];
        return new SearchBenchmarkResult(store.Kind, settings.Strategy, settings.Budget, settings.WorkersPerDevice, settings.Budget / searchSeconds, searchSeconds,
            At(latencies, 0.50), At(latencies, 0.90), At(latencies, 0.99), latencies.LastOrDefault(), At(warm, 0.50), At(warm, 0.99),
            (double)journalBytes / settings.Budget, journalBytes, snapshotBytes, recoverySeconds, statusSeconds, residentMb, anonymousMb, peakMb, liveMb, stateMb);
    }

    private static long LiveBytes()
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: false);
    }
}
