using System.Diagnostics;
using System.Text.Json;
using NasActors.Reports;

using NasActors.Hosting;
using NasActors.Persistence;

namespace NasActors.Bench;

/// <summary>The cluster's figures: throughput, the workers' idle share and the overhead per child, journal bytes per child.</summary>
public sealed record ClusterBenchmarkResult(
    string Journal, int Children, int Workers, int ChildMs, int Completed, double SearchS, double ChildrenPerS, int WorkersSeen,
    double? IdleShare, double? OverheadP50Ms, double? OverheadP99Ms, double JournalBytesPerChild, int Stopped,
    double? WarmIdleShare, double? WarmOverheadP50Ms, double? WarmOverheadP99Ms, double? FirstChildOverheadP50Ms, double? IdleShareRun, double LastResultS);

/// <summary>
/// A cluster on this machine, as real processes: <c>nas search</c> as the seed (coordinator and
/// evaluator) and two <c>nas node</c> trainer nodes sharing the synthetic workers, children taking
/// a fixed time each. From the journal's write times: a child's span runs from its assignment
/// being stored to its result being stored (the next assignment is stored with the result), so
/// everything in a span beyond the child's own time, and any gap between spans, is time the
/// worker was not training. With early stopping (<c>epochs</c>), children are learning curves of
/// that many epochs (<c>childMs</c> in all) judged by ASHA, and a stopped child's own time is its
/// epochs up to the rung it was stopped at. The warm figures leave out each worker's first child:
/// it starts while every process is still compiling its code and all workers join at once.
/// <c>IdleShare</c> counts each worker from its first assignment to its last result (the steady
/// state); <c>IdleShareRun</c> is what an operator pays for: one minus the children's own time over
/// all workers times the wall time from the search's start (its first event) to its last result,
/// so the nodes' start, the cluster's forming and the tail while the last children finish all
/// count as idle. The trainer nodes start as soon as the seed listens, as an operator starts a
/// cluster's machines.
/// </summary>
public static class ClusterBenchmark
{
    public static async Task<ClusterBenchmarkResult> RunAsync(RunStore store, IReadOnlyList<string> runArguments, int children, int workers, int childMs, CancellationToken cancel,
        int? epochs = null)
    {
        var port = ClusterSpec.FreePort();
        var seed = $"127.0.0.1:{port}";
        var trainer = epochs is { } e ? $"synthetic-curves:{childMs / e}" : $"synthetic:{childMs}";
        string[] earlyStop = [];
        var config = Path.Combine(Path.GetTempPath(), $"nas-bench-asha-{Guid.NewGuid():N}.json");
        if (epochs is not null)
        {
            File.WriteAllText(config, $"{{\"search\": {{\"epochs\": {epochs}}}}}");
            earlyStop = ["--config", config, "--early-stop", "asha"];
        }
        using var search = Start(["search", .. runArguments, "--roles", "coordinator,evaluator", "--host", "127.0.0.1", "--port", $"{port}", "--join", seed,
            "--children", $"{children}", "--trainer", trainer, "--strategy", "random", "--top-k", "0", .. earlyStop, "--json"]);
        var stdout = search.StandardOutput.ReadToEndAsync(cancel);
        var stderr = search.StandardError.ReadToEndAsync(cancel);
        var nodes = new List<Process>();
        try
        {
            // The nodes start once the seed listens: a node that asks a seed not yet up waits out
            // the transport's retry gate (seconds) before it asks again.
            while (!search.HasExited && !await Listens(port, cancel)) await Task.Delay(50, cancel);
            for (var n = 0; n < 2 && !search.HasExited; n++)
            {
                var node = Start(["node", "--join", seed, "--trainer", trainer, "--workers-per-device", $"{workers / 2 + (n < workers % 2 ? 1 : 0)}"]);
                node.StandardOutput.ReadToEndAsync(cancel).Ignore();
                node.StandardError.ReadToEndAsync(cancel).Ignore();
                nodes.Add(node);
            }
            await search.WaitForExitAsync(cancel);
            if (search.ExitCode != 0)
                throw new IOException($"the benchmark's search failed (exit {search.ExitCode}): {(await stderr).Trim().Split('\n')[^1]}");
        }
        finally
        {
            foreach (var p in nodes.Append(search).Where(p => !p.HasExited)) p.Kill();
            foreach (var p in nodes) p.Dispose();
            File.Delete(config);
        }
        var status = JsonDocument.Parse(await stdout).RootElement;
        var seconds = status.GetProperty("elapsed_s").GetDouble();
        var report = RunReportBuilder.Build(store.Title, store.ReadStoredEvents(), DateTimeOffset.UtcNow, top: 1);
        var stoppedAt = new Dictionary<long, int>();
        for (var i = 0; i < report.Children.Id.Count; i++)
            if (report.Children.StoppedAt[i] is { } epoch) stoppedAt[report.Children.Id[i]] = epoch;
        // A child's own time: all its epochs, or those up to the rung it was stopped at.
        double Own(WorkerSpan s) => (stoppedAt.TryGetValue(s.ChildId, out var at) ? (double)childMs / epochs!.Value * at : childMs) / 1000.0;
        var perWorker = report.Timeline.Rows.Where(s => s.Outcome is "trained" or "stopped" && s.EndS is not null)
            .GroupBy(s => s.Worker).Select(w => w.OrderBy(s => s.StartS).ToList()).ToList();
        var all = Idle(perWorker, Own);
        var warm = Idle(perWorker.Select(w => w.Skip(1).ToList()).ToList(), Own);
        var first = Idle(perWorker.Select(w => w.Take(1).ToList()).ToList(), Own);
        var spans = perWorker.SelectMany(w => w).ToList();
        var lastResult = spans.Count > 0 ? spans.Max(s => s.EndS!.Value) : 0;
        double? run = lastResult > 0 ? Math.Round(1 - spans.Sum(Own) / (workers * lastResult), 4) : null;
        return new ClusterBenchmarkResult(store.Kind, children, workers, childMs,
            status.GetProperty("completed").GetInt32(), Math.Round(seconds, 1), Math.Round(children / seconds, 1),
            report.Timeline.Worker.Distinct().Count(), all.Share, all.At(0.5), all.At(0.99), Math.Round((double)store.StoredBytes().Journal / children), stoppedAt.Count,
            warm.Share, warm.At(0.5), warm.At(0.99), first.At(0.5), run, Math.Round(lastResult, 1));
    }

    /// <summary>Overheads (each span beyond the child's own time) and gaps between spans, over the workers' spans in order.</summary>
    private static IdleFigures Idle(List<List<WorkerSpan>> perWorker, Func<WorkerSpan, double> own)
    {
        var overheads = perWorker.SelectMany(w => w.Select(s => Math.Max(0, s.EndS!.Value - s.StartS - own(s)))).Order().ToArray();
        var gaps = perWorker.SelectMany(w => w.Zip(w.Skip(1), (a, b) => Math.Max(0, b.StartS - a.EndS!.Value))).Sum();
        var busy = perWorker.SelectMany(w => w).Sum(s => s.EndS!.Value - s.StartS) + gaps;
        return new IdleFigures(busy > 0 ? Math.Round((overheads.Sum() + gaps) / busy, 4) : null, overheads);
    }

    private sealed record IdleFigures(double? Share, double[] SortedOverheads)
    {
        public double? At(double p) => SortedOverheads.Length == 0 ? null : Math.Round(SortedOverheads[Math.Min(SortedOverheads.Length - 1, (int)(p * SortedOverheads.Length))] * 1000, 1);
    }

    private static async Task<bool> Listens(int port, CancellationToken cancel)
    {
        using var client = new System.Net.Sockets.TcpClient();
        try
        {
            await client.ConnectAsync(System.Net.IPAddress.Loopback, port, cancel);
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    /// <summary>This nas, again, as a child process (run as <c>dotnet nas.dll</c> or as its own executable).</summary>
    private static Process Start(IEnumerable<string> args)
    {
        var info = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet") info.ArgumentList.Add(System.Reflection.Assembly.GetEntryAssembly()!.Location);
        foreach (var a in args) info.ArgumentList.Add(a);
        return Process.Start(info)!;
    }

    private static void Ignore(this Task task) => task.ContinueWith(_ => { }, TaskScheduler.Default);
}
