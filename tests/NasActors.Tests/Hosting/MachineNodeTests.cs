using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using NasActors.Persistence;
using NasActors.Search.Events;
using NasActors.Tests.Support;
using Xunit.Abstractions;

using static NasActors.Tests.Support.ClusterProcesses;

namespace NasActors.Tests.Hosting;

/// <summary>A search whose children are trained by trainer nodes in other processes (real nas processes on one machine).</summary>
public sealed class MachineNodeTests(ITestOutputHelper output)
{
    private const int Budget = 80;

    [Fact]
    public async Task A_trainer_node_killed_mid_search_loses_nothing_a_node_joining_mid_search_gets_work_at_once_and_the_log_says_what_each_did()
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        var seed = $"127.0.0.1:{FreePort()}";
        using var search = Start(SeedSearch(seed, "--run", run, "--children", $"{Budget}", "--top-k", "1", "--strategy", "random", "--seed", "5", "--json"));
        var stdout = search.StandardOutput.ReadToEndAsync();
        var stderr = search.StandardError.ReadToEndAsync();
        using var first = Start("node", "--join", seed, "--trainer", "synthetic:1000", "--workers-per-device", "2");
        Process? second = null, third = null, fourth = null;
        try
        {
            var firstAddress = await Announced(first);
            await WaitFor(run, s => s.Trained >= 6, TimeSpan.FromSeconds(90));

            // Three more machines join mid-search (started together, so that the budget is not spent
            // while they start): the second's workers get children within seconds.
            second = Start("node", "--join", seed, "--trainer", "synthetic:1000", "--workers-per-device", "2");
            third = Start("node", "--join", seed, "--trainer", "synthetic:1000");
            // The fourth's children outlast the test: whenever it is killed, it is training one.
            fourth = Start("node", "--join", seed, "--trainer", "synthetic:60000");
            await Announced(second);
            var joined = DateTimeOffset.UtcNow;
            var secondWorker = $":{second.Id}/";
            await WaitFor(run, s => s.SearchJobs.Running.Values.Any(w => w.Contains(secondWorker)) || s.Children.Values.Any(c => c.Search.WorkerId?.Contains(secondWorker) == true),
                TimeSpan.FromSeconds(30));
            output.WriteLine($"a node joining mid-search got its first child {(DateTimeOffset.UtcNow - joined).TotalSeconds:F1} s after it was up");
            var thirdAddress = await Announced(third);
            var fourthAddress = await Announced(fourth);

            // The third machine is stopped (SIGTERM) while it trains: it leaves cleanly, and its child goes back to the queue.
            var thirdWorker = $":{third.Id}/";
            await WaitFor(run, s => s.SearchJobs.Running.Values.Any(w => w.Contains(thirdWorker)), TimeSpan.FromSeconds(30));
            Assert.Equal(0, StopsOnSigterm(third));
            Assert.DoesNotContain(" Error ", await third.StandardError.ReadToEndAsync());

            // The first machine dies, and the fourth a few seconds after the first was found unreachable,
            // before the first was downed: the cluster downs both (not itself, for the reachability that
            // changed twice) and their children go back to the queue.
            var firstWorker = $":{first.Id}/";
            var fourthWorker = $":{fourth.Id}/";
            await WaitFor(run, s => s.SearchJobs.Running.Values.Any(w => w.Contains(firstWorker)) && s.SearchJobs.Running.Values.Any(w => w.Contains(fourthWorker)),
                TimeSpan.FromSeconds(30));
            first.Kill();
            var killed = DateTimeOffset.UtcNow;
            output.WriteLine($"the first node was killed with {new FolderRunStore(run).ReadState().Trained} of {Budget} children trained");
            await LogSays(run, $"node {firstAddress} is unreachable", TimeSpan.FromSeconds(30));
            await Task.Delay(TimeSpan.FromSeconds(2.5));
            fourth.Kill();

            Assert.True(search.WaitForExit(TimeSpan.FromMinutes(2)), "the search did not finish after two trainer nodes died");
            Assert.True(search.ExitCode == 0, await stderr);
            var status = JsonDocument.Parse(await stdout).RootElement;
            Assert.Equal(Budget, status.GetProperty("completed").GetInt32());

            var events = new FolderRunStore(run).ReadStoredEvents();
            // No child counted twice: one recorded result per child.
            JournalAssert.EachTrainedOnce(events.Select(e => e.Event), Budget);
            var requeued = events.Where(e => e.At >= killed && e.Event is ChildRequeued).ToList();
            Assert.NotEmpty(requeued);
            var redispatch = events.First(e => e.At >= requeued[0].At && e.Event is ChildAssigned a && a.ChildId == ((ChildRequeued)requeued[0].Event).ChildId);
            output.WriteLine($"two trainer nodes killed: requeued {(requeued[0].At - killed).TotalSeconds:F1} s and re-dispatched {(redispatch.At - killed).TotalSeconds:F1} s after the first kill");
            Assert.True(redispatch.At - killed < TimeSpan.FromSeconds(40), $"re-dispatch took {(redispatch.At - killed).TotalSeconds:F1} s");

            // Who did what, machine by machine: 2 workers per node, the dead nodes' lost attempts requeued.
            var workers = NasProcess.Run("workers", "--run", run, "--json");
            Assert.True(workers.ExitCode == 0, workers.Stderr);
            var rows = JsonDocument.Parse(workers.Stdout).RootElement.EnumerateArray().ToList();
            Assert.Equal(6, rows.Count);
            Assert.All(rows, w => Assert.Equal(Environment.MachineName, w.GetProperty("machine").GetString()));
            Assert.Equal(new[] { first.Id, first.Id, second.Id, second.Id, third.Id, fourth.Id }.Order(), rows.Select(w => w.GetProperty("process").GetInt32()).Order());
            Assert.Equal(Budget, rows.Sum(w => w.GetProperty("trained").GetInt32()));
            Assert.Equal(1, rows.Sum(w => w.GetProperty("final").GetInt32()));
            int Requeued(Process node) => rows.Where(w => w.GetProperty("process").GetInt32() == node.Id).Sum(w => w.GetProperty("requeued").GetInt32());
            Assert.True(Requeued(first) >= 1);
            Assert.True(Requeued(third) >= 1);
            Assert.True(Requeued(fourth) >= 1);

            // The seed's log says what each node did and whether anything is needed, and nothing at Error:
            // a node that left cleanly was an Error "Disassociated" from the transport.
            var log = File.ReadAllLines(Path.Combine(run, "node.log"));
            output.WriteLine(string.Join('\n', log));
            Assert.DoesNotContain(log, l => l.Contains(" Error ", StringComparison.Ordinal));
            Assert.Contains(log, l => l.Contains($"node {thirdAddress} left the cluster cleanly (roles trainer): anything it was training goes back to the queue; nothing is needed"));
            Assert.Contains(log, l => l.Contains($"node {firstAddress} is unreachable (roles trainer; it crashed, was stopped or paused, or the network is cut): " +
                "if it stays so for 7 s it is removed and its children are trained elsewhere; nothing is needed unless it was not meant to stop"));
            foreach (var dead in new[] { firstAddress, fourthAddress })
                Assert.Contains(log, l => l.Contains($"node {dead} was removed from the cluster after it stayed unreachable (roles trainer): " +
                    "anything it was training goes back to the queue; start it again to bring it back"));
            Assert.DoesNotContain(log, l => l.Contains("Disassociated") || l.Contains("Marking node(s)") || l.Contains("SBR took decision") || l.Contains($"[{firstAddress}]"));

            // The surviving node stops gracefully on SIGTERM: it leaves the cluster and exits 0.
            Assert.Equal(0, StopsOnSigterm(second));
        }
        finally
        {
            foreach (var p in new[] { search, first, second, third, fourth })
                if (p is { HasExited: false }) p.Kill();
            second?.Dispose();
            third?.Dispose();
            fourth?.Dispose();
        }
    }

    /// <summary>Waits for a line of the run's node.log that contains <paramref name="text"/>.</summary>
    private static async Task LogSays(string run, string text, TimeSpan timeout)
    {
        var log = Path.Combine(run, "node.log");
        var clock = Stopwatch.StartNew();
        while (!(File.Exists(log) && File.ReadLines(log).Any(l => l.Contains(text, StringComparison.Ordinal))))
        {
            if (clock.Elapsed > timeout) throw new TimeoutException($"node.log did not say '{text}' in {timeout.TotalSeconds} s");
            await Task.Delay(100);
        }
    }

    [Theory]
    [InlineData(new[] { "node" }, "--join")]
    [InlineData(new[] { "node", "--join", "nowhere" }, "--join: 'nowhere' is not HOST:PORT")]
    [InlineData(new[] { "node", "--join", "127.0.0.1:1", "--roles", "coordinator" }, "--roles: the coordinator and the evaluator run together")]
    [InlineData(new[] { "node", "--join", "127.0.0.1:1", "--roles", "coordinator,evaluator" }, "--roles: a standby coordinator needs --journal URL and --run NAME")]
    [InlineData(new[] { "node", "--join", "127.0.0.1:1", "--roles", "coordinator,evaluator", "--journal", "postgresql://nas@127.0.0.1:1/nas" }, "--run: give the name of the run")]
    [InlineData(new[] { "node", "--join", "127.0.0.1:1", "--run", "exp1" }, "--run: a trainer node needs no run")]
    [InlineData(new[] { "node", "--join", "127.0.0.1:1", "--roles", "boss" }, "--roles: 'boss' is not one of coordinator, trainer, evaluator")]
    [InlineData(new[] { "node", "--join", "127.0.0.1:1", "--devices", "cuda:3" }, "--devices: device cuda:3")]
    [InlineData(new[] { "node", "--join", "127.0.0.1:1", "--trainer", "magic" }, "--trainer: unknown trainer")]
    [InlineData(new[] { "node", "--join", "127.0.0.1:1", "--port", "70000" }, "--port: expected 0 (any free port) to 65535")]
    [InlineData(new[] { "node", "--join", "127.0.0.1:1", "--hocon", "/nonexistent.hocon" }, "--hocon: /nonexistent.hocon does not exist")]
    [InlineData(new[] { "node", "--join", "" }, "--join: give at least one seed as HOST:PORT")]
    [InlineData(new[] { "node", "--join", ",", "--port", "0" }, "--join: give at least one seed as HOST:PORT")]
    [InlineData(new[] { "node", "--join", "127.0.0.1:1", "--host", "0.0.0.0" }, "--host: give the address other nodes reach this machine at")]
    public void Bad_node_options_are_one_line_and_exit_2(string[] args, string message)
    {
        var r = NasProcess.Run(args);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(message, r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public void A_port_in_use_a_HOCON_file_that_sets_nothing_or_a_wrong_value_are_one_line_each()
    {
        using var dir = new TempDir();
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var inUse = NasProcess.Run("node", "--join", "127.0.0.1:1", "--port", $"{port}");
        Assert.Equal(2, inUse.ExitCode);
        Assert.Contains($"--port: 127.0.0.1:{port} is not free", inUse.Stderr);

        var gibberish = NasProcess.Run("node", "--join", "127.0.0.1:1", "--hocon", dir.File("bad.hocon", "}}} ]] = = {"));
        Assert.Equal(2, gibberish.ExitCode);
        Assert.Contains("--hocon", gibberish.Stderr);

        var wrongValue = NasProcess.Run("node", "--join", "127.0.0.1:1", "--hocon", dir.File("port.hocon", "akka.remote.dot-netty.tcp.port = \"abc\""));
        Assert.Equal(2, wrongValue.ExitCode);
        Assert.Contains("--hocon", wrongValue.Stderr);

        var negative = NasProcess.Run("node", "--join", "127.0.0.1:1", "--hocon", dir.File("memory.hocon", "nas.memory-log-every = -5s"));
        Assert.Equal(2, negative.ExitCode);
        Assert.Contains("nas.memory-log-every must be 0 (never) or a duration", negative.Stderr);
        foreach (var r in new[] { inUse, gibberish, wrongValue, negative })
            Assert.Single(r.Stderr.Trim().Split('\n'));
    }

    [Theory]
    [InlineData("coordinator,evaluator", "give it a port and seeds")] // trains nothing itself, and no node could join it
    [InlineData("trainer", "--roles: nas search runs the coordinator and the evaluator")]
    public void A_search_with_roles_it_cannot_serve_is_refused_before_anything_is_stored(string roles, string message)
    {
        using var dir = new TempDir();
        var r = NasProcess.Run("search", "--run", Path.Combine(dir.Path, "run"), "--roles", roles);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(message, r.Stderr);
        Assert.False(File.Exists(Path.Combine(dir.Path, "run", "run.json")));
        Assert.False(File.Exists(Path.Combine(dir.Path, "run", "journal.db")));
    }
}
