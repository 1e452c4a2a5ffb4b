using System.Diagnostics;
using System.Text.Json;
using NasActors.Persistence;
using NasActors.Search;
using NasActors.Search.Events;
using NasActors.Tests.Support;
using Xunit.Abstractions;
using static NasActors.Tests.Support.ClusterProcesses;

namespace NasActors.Tests.Hosting;

/// <summary>
/// Early stopping through the faults of a cluster on PostgreSQL: the database restarted, then the
/// lease holder killed (SIGKILL) while a child sits between its rungs, with a standby coordinator
/// up. Every rung is decided, in the order an uninterrupted twin on the same seed decides it, and
/// the coordinator that takes over after the outage starts on live connections (no Error).
/// </summary>
[Collection("postgres")]
public sealed class EarlyStopTakeoverTests(PostgresServer postgres, ITestOutputHelper output)
{
    private const int Budget = 16;

    [Fact]
    public async Task A_lease_holder_killed_between_rungs_after_a_database_restart_decides_every_rung_as_an_uninterrupted_twin()
    {
        using var dir = new TempDir();
        // One worker: the order of reports, and so every decision, is fixed by the seed. Rungs at epochs 1 and 3 of 9, 0.5 s an epoch.
        var config = dir.File("config.json", JsonSerializer.Serialize(new SearchSettings
        {
            Strategy = "random", Seed = 9, Budget = Budget, TopK = 0, Trainer = "synthetic-curves:500", WorkersPerDevice = 1,
            Search = new SearchSettings().Search with { Epochs = 9 },
            EarlyStop = new EarlyStopSettings { GraceEpochs = 1, ReductionFactor = 3 },
        }, SettingsJson.Options));
        var twinRun = Path.Combine(dir.Path, "twin");
        var twinSearch = NasProcess.Run(TimeSpan.FromMinutes(3), "search", "--run", twinRun, "--config", config, "--json");
        Assert.True(twinSearch.ExitCode == 0, twinSearch.Stderr);
        var twin = new FolderRunStore(twinRun).ReadState();
        Assert.True(twin.Stopped >= 3, $"only {twin.Stopped} of {Budget} stopped");

        var db = postgres.NewDatabase();
        var url = PostgresUrl.Parse(db);
        SearchState Read() => new DatabaseRunStore(url, "exp").Read().State;
        var seed = $"127.0.0.1:{FreePort()}";
        using var search = Start(SeedSearch(seed, "--journal", db, "--run", "exp", "--config", config, "--json"));
        var searchLog = search.StandardError.ReadToEndAsync();
        Process? standby = null, trainer = null;
        try
        {
            await WaitFor(Read, s => s.Settings is not null, TimeSpan.FromSeconds(60));
            standby = Start("node", "--join", seed, "--roles", "coordinator,evaluator", "--journal", db, "--run", "exp");
            await Announced(standby);
            var standbyLog = standby.StandardError.ReadToEndAsync();
            trainer = Start("node", "--join", seed, "--trainer", "synthetic-curves:500", "--workers-per-device", "1");
            await Announced(trainer);

            // The database restarts mid-search: every connection is cut, the lease with it.
            await WaitFor(Read, s => s.Trained + s.Stopped >= 3, TimeSpan.FromSeconds(90));
            postgres.Stop();
            await Task.Delay(TimeSpan.FromSeconds(3));
            postgres.Start();
            var restarted = DateTimeOffset.UtcNow;
            await WaitFor(Read, s => s.Trained + s.Stopped >= 6, TimeSpan.FromSeconds(90));

            // Then the lease holder dies while its child has passed rung 1 and not yet rung 3.
            long between;
            while (true)
            {
                var s = Read();
                if (s.SearchJobs.Running.Keys.Select(id => (long?)id).FirstOrDefault(id => s.Children[id!.Value].RungAt(1) is { Stopped: false } && s.Children[id.Value].RungAt(3) is null) is { } id)
                {
                    between = id;
                    break;
                }
                Assert.False(s.AllResultsIn, "the search ended before a child sat between its rungs");
                await Task.Delay(20);
            }
            var holderPid = int.Parse(PostgresWriterLease.Holder(url, "exp")!.Split(' ')[1]);
            var (holder, successor, successorLog) = holderPid == search.Id ? (search, standby, standbyLog) : (standby, search, searchLog);
            Assert.Equal(holderPid, holder.Id);
            holder.Kill();
            var killed = DateTimeOffset.UtcNow;
            output.WriteLine($"killed the lease holder ({(holder == search ? "the seed" : "the standby")}) while child {between} sat between its rungs");

            await WaitFor(Read, s => s.Finished, TimeSpan.FromMinutes(3));
            var resumed = Read();
            var stored = new DatabaseRunStore(url, "exp").ReadStoredEvents();
            var events = stored.Select(e => e.Event).ToList();

            // The child between its rungs had its rung 3 decided by the successor, with its result (its rung report's answer was lost in the kill).
            var atThree = stored.Single(e => e.Event is ChildReachedRung { Epoch: 3 } r && r.ChildId == between);
            Assert.True(atThree.At > killed, $"child {between}'s rung 3 was decided before the kill");

            // Every rung decided, as the uninterrupted twin decided it (each child's rungs side by side, for a failure).
            string Rungs(ChildRecord c) => $"{c.Search.Status} a{c.Search.Attempts} " + string.Join(" ", (c.Rungs ?? []).Select(r => $"{r.Epoch}:{r.Accuracy:F4}{(r.Stopped ? "x" : "")}"));
            foreach (var c in resumed.Children.Values)
                output.WriteLine($"child {c.Id}: twin {Rungs(twin.Children[c.Id])} | run {Rungs(c)}");
            Assert.All(resumed.Children.Values.Where(c => c.Search.Status == JobStatus.Trained),
                c => Assert.Equal([1, 3], c.Rungs!.Select(r => r.Epoch)));
            Assert.Equal(twin.Rungs.Values.Keys, resumed.Rungs.Values.Keys);
            foreach (var key in twin.Rungs.Values.Keys) Assert.Equal(twin.Rungs.At(key), resumed.Rungs.At(key));
            Assert.Equal(SearchViews.Stopped(twin), SearchViews.Stopped(resumed));
            Assert.Equal(Ranking.Trained(twin).Select(c => (c.Id, c.Search.Outcome!.Accuracy)), Ranking.Trained(resumed).Select(c => (c.Id, c.Search.Outcome!.Accuracy)));
            var rungs = events.OfType<ChildReachedRung>().Select(e => (e.ChildId, e.Epoch)).ToList();
            Assert.Equal(rungs.Distinct().Count(), rungs.Count);
            Assert.Equal(Budget, resumed.Trained + resumed.Stopped);

            Assert.Equal(0, StopsOnSigterm(trainer));
            Assert.Equal(0, successor == search ? WaitExit(search) : StopsOnSigterm(successor));
            var successorLines = (await successorLog).Split('\n');
            Assert.Contains(successorLines, l => l.Contains($"child {between}: rung(s) at epoch 3 decided with its result", StringComparison.Ordinal));

            // Whoever took the lease after the restart (the holder again, or the standby), and the
            // successor after the kill, started on connections opened after it: once the lease was
            // taken after the restart, no process logged an Error (the outage's own are before it).
            var lines = (await searchLog).Split('\n').Concat((await standbyLog).Split('\n')).ToList();
            static DateTimeOffset? At(string line) =>
                DateTimeOffset.TryParse(line.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture, out var t) ? t : null;
            var retaken = lines.Where(l => l.Contains("took the run's writer lease", StringComparison.Ordinal) && At(l) > restarted).Min(At);
            Assert.NotNull(retaken);
            var errors = lines.Where(l => l.Contains(" Error [", StringComparison.Ordinal) && At(l) > retaken).ToList();
            Assert.True(errors.Count == 0, string.Join('\n', errors));
        }
        finally
        {
            foreach (var p in new[] { search, standby, trainer })
                if (p is { HasExited: false }) p.Kill();
            standby?.Dispose();
            trainer?.Dispose();
        }
    }

    /// <summary>The seed's search ends by itself once the run is finished.</summary>
    private static int WaitExit(Process p)
    {
        Assert.True(p.WaitForExit(TimeSpan.FromSeconds(60)), "the seed's search did not end after the run finished");
        return p.ExitCode;
    }
}
