using System.Diagnostics;
using NasActors.Persistence;
using NasActors.Search;

namespace NasActors.Tests.Support;

/// <summary>Real nas processes forming a cluster on this machine: start, wait for, signal.</summary>
public static class ClusterProcesses
{
    public static Process Start(params string[] args) => Process.Start(NasProcess.StartInfo(args))!;

    public static int FreePort() => NasActors.Hosting.ClusterSpec.FreePort();

    /// <summary>
    /// The arguments of a search that seeds a cluster at <paramref name="seed"/> (HOST:PORT, its own
    /// address): the coordinator and the evaluator, with trainer nodes to join it.
    /// </summary>
    public static string[] SeedSearch(string seed, params string[] args) =>
        ["search", .. args, "--roles", "coordinator,evaluator", "--host", seed.Split(':')[0], "--port", seed.Split(':')[1], "--join", seed];

    /// <summary>Waits for a node's "node: ADDRESS up" line; returns its address.</summary>
    public static async Task<string> Announced(Process node)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (await node.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            if (line.StartsWith("node: ", StringComparison.Ordinal)) return line.Split(' ')[1];
        throw new InvalidOperationException($"nas node exited ({node.ExitCode}): {await node.StandardError.ReadToEndAsync()}");
    }

    /// <summary>Polls a run's stored state until <paramref name="condition"/> holds.</summary>
    public static async Task WaitFor(Func<SearchState> read, Func<SearchState, bool> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        SearchState? last = null;
        while (clock.Elapsed < timeout)
        {
            try
            {
                last = read();
                if (condition(last)) return;
            }
            catch (RunStoreException)
            {
                // The run's store is being created (or its server restarts).
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"the run did not reach the expected state in {timeout.TotalSeconds} s; it was at {Describe(last)}");
    }

    /// <summary>What a timed-out wait saw last, so that a failure says where the run stood.</summary>
    private static string Describe(SearchState? s) => s is null
        ? "no readable state"
        : $"{s.Trained} trained, {s.Failed} failed of {s.Budget}, {s.Sampled} sampled, search {(s.SearchCompleted ? "completed" : "running")}, " +
          $"running [{string.Join(", ", s.RunningJobs.Select(r => $"{r.ChildId}@{r.WorkerId}"))}]";

    /// <summary>Polls a run folder's stored state until <paramref name="condition"/> holds.</summary>
    public static Task WaitFor(string run, Func<SearchState, bool> condition, TimeSpan timeout) =>
        WaitFor(() => new FolderRunStore(run).ReadState(), condition, timeout);

    public static void Terminate(Process p) => Process.Start("kill", ["-TERM", $"{p.Id}"])!.WaitForExit();

    /// <summary>A node stops on SIGTERM, leaving its cluster, within 30 s; returns its exit code.</summary>
    public static int StopsOnSigterm(Process node)
    {
        Terminate(node);
        Assert.True(node.WaitForExit(TimeSpan.FromSeconds(30)), "a node did not stop on SIGTERM");
        return node.ExitCode;
    }
}
