using System.Diagnostics;
using NasActors.ChildTrainer.Workers;
using NasActors.Persistence;

namespace NasActors.Node.Hosting;

/// <summary>The control plane's figures: throughput, dispatch latency, journal size, recovery and status-read time.</summary>
public sealed record SearchBenchmarkResult(
    string Strategy, int Children, int Workers, double ChildrenPerS, double SearchS,
    double DispatchP50Ms, double DispatchP90Ms, double DispatchP99Ms, double DispatchMaxMs, double WarmDispatchP50Ms, double WarmDispatchP99Ms,
    double JournalBytesPerChild, long JournalBytes, long SnapshotBytes, double RecoveryToFirstDispatchS, double StatusReadS);

/// <summary>
/// A whole search with the synthetic trainer in this process, then its recovery: the control plane
/// alone (journal, coordinator, workers), with no training cost.
/// </summary>
public static class SearchBenchmark
{
    public static async Task<SearchBenchmarkResult> RunAsync(string dir, SearchSettings settings, CancellationToken cancel)
    {
        RunFolder.WriteSettings(dir, settings);
        var metrics = new WorkerMetrics();
        double searchSeconds;
        await using (var node = await SearchNode.StartAsync(new FolderRunStore(dir), settings, cancel, metrics))
        {
            var first = await metrics.FirstJob.WaitAsync(TimeSpan.FromMinutes(1), cancel);
            while ((await node.StatusAsync())?.Finished != true) await Task.Delay(100, cancel);
            searchSeconds = Stopwatch.GetElapsedTime(first).TotalSeconds;
        }
        SqliteRunFiles.Checkpoint(dir);
        var journalBytes = Directory.GetFiles(dir, PersistenceConfig.JournalFile + "*").Sum(f => new FileInfo(f).Length);
        var snapshotBytes = Directory.GetFiles(dir, PersistenceConfig.SnapshotFile + "*").Sum(f => new FileInfo(f).Length);

        // What nas status does: the latest snapshot and the events after it, straight from the files.
        var read = Stopwatch.StartNew();
        SearchViews.Summary(SqliteRunFiles.ReadState(dir), DateTimeOffset.UtcNow);
        var statusSeconds = read.Elapsed.TotalSeconds;

        // Recovery: a new node on the finished run, one more child to do; time to its dispatch.
        var more = settings with { Budget = settings.Budget + 1 };
        RunFolder.WriteSettings(dir, more);
        var again = new WorkerMetrics();
        var start = Stopwatch.GetTimestamp();
        double recoverySeconds;
        await using (var node = await SearchNode.StartAsync(new FolderRunStore(dir), more, cancel, again))
            recoverySeconds = Stopwatch.GetElapsedTime(start, await again.FirstJob.WaitAsync(TimeSpan.FromMinutes(2), cancel)).TotalSeconds;

        var inOrder = metrics.DispatchMilliseconds.ToArray();
        var latencies = inOrder.Order().ToArray();
        // The first 1,000 dispatches include JIT compilation and the cluster settling.
        var warm = inOrder.Skip(1000).Order().ToArray();
        static double At(double[] sorted, double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];
        return new SearchBenchmarkResult(settings.Strategy, settings.Budget, settings.WorkersPerDevice, settings.Budget / searchSeconds, searchSeconds,
            At(latencies, 0.50), At(latencies, 0.90), At(latencies, 0.99), latencies.LastOrDefault(), At(warm, 0.50), At(warm, 0.99),
            (double)journalBytes / settings.Budget, journalBytes, snapshotBytes, recoverySeconds, statusSeconds);
    }
}
