using System.Diagnostics;
using System.Text.Json;
using NasActors.ChildTrainer.Workers;
using NasActors.Persistence;
using NasActors.Search;
using NasActors.Search.Events;
using NasActors.Tests.Support;
using static NasActors.Tests.Support.ClusterProcesses;

namespace NasActors.Tests.Hosting;

/// <summary>
/// A coordinator takeover on PostgreSQL: the lease holder, which also trains the child, is killed
/// (SIGKILL) once the child has a checkpoint in the shared artifacts directory; the standby takes
/// the lease and requeues the child, and a worker of another node resumes it from the checkpoint,
/// ending as an uninterrupted twin on the same seed.
/// </summary>
[Collection("postgres")]
public sealed class CheckpointTakeoverTests(PostgresServer postgres, Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task A_child_of_a_lease_holder_killed_mid_child_resumes_from_its_checkpoint_after_the_standby_takes_over()
    {
        using var dir = new TempDir();
        var config = dir.File("config.json", JsonSerializer.Serialize(new SearchSettings
        {
            Strategy = "random", Seed = 3, Budget = 1, TopK = 0, Trainer = "torch", WorkersPerDevice = 1,
            Search = new SearchSettings().Search with { Cells = 1, Filters = 4, Epochs = 5, ValidationSize = 200, TrainLimit = 400 },
        }, SettingsJson.Options));
        var twinRun = Path.Combine(dir.Path, "twin");
        var twinSearch = NasProcess.Run(TimeSpan.FromMinutes(3), "search", "--run", twinRun, "--config", config, "--json");
        Assert.True(twinSearch.ExitCode == 0, twinSearch.Stderr);
        var twin = new FolderRunStore(twinRun).ReadEvents().OfType<ChildTrained>().Single();

        var db = postgres.NewDatabase();
        var url = PostgresUrl.Parse(db);
        SearchState Read() => new DatabaseRunStore(url, "exp").Read().State;
        var artifacts = Directory.CreateDirectory(Path.Combine(dir.Path, "artifacts")).FullName;
        var seed = $"127.0.0.1:{FreePort()}";
        // The seed coordinates and trains: its child is lost with it.
        using var search = Start(["search", "--journal", db, "--run", "exp", "--config", config, "--json", "--artifacts", artifacts,
            "--roles", "coordinator,evaluator,trainer", "--host", "127.0.0.1", "--port", seed.Split(':')[1], "--join", seed]);
        var searchLog = search.StandardError.ReadToEndAsync();
        Process? standby = null, trainer = null;
        Task<string>? standbyLog = null;
        try
        {
            await WaitFor(Read, s => s.SearchJobs.Running.Count == 1, TimeSpan.FromSeconds(90));
            Assert.Contains($":{search.Id}/", Read().SearchJobs.Running[0]);
            Assert.Equal(search.Id, int.Parse(PostgresWriterLease.Holder(url, "exp")!.Split(' ')[1]));
            // The standby (coordinator and trainer) and a trainer node join once the child is the seed's (three nodes: the
            // two left are a majority), then the seed dies with a checkpoint written.
            standby = Start("node", "--join", seed, "--roles", "coordinator,evaluator,trainer", "--journal", db, "--run", "exp",
                "--trainer", "torch", "--workers-per-device", "1", "--artifacts", artifacts);
            await Announced(standby);
            standbyLog = standby.StandardError.ReadToEndAsync();
            trainer = Start("node", "--join", seed, "--trainer", "torch", "--workers-per-device", "1", "--artifacts", artifacts);
            await Announced(trainer);
            var checkpoint = Path.Combine(TorchChildTrainer.CheckpointFolder(artifacts), "0-search", "checkpoint.bin");
            var clock = Stopwatch.StartNew();
            while (!File.Exists(checkpoint) && !search.HasExited && clock.Elapsed < TimeSpan.FromMinutes(2)) await Task.Delay(20);
            var ended = search.HasExited;
            if (!ended) search.Kill();
            Assert.True(File.Exists(checkpoint) && !ended, $"the seed ended or its child wrote no checkpoint: {(ended ? await searchLog : "")}");

            await WaitFor(Read, s => s.Finished, TimeSpan.FromMinutes(3));
            var trained = new DatabaseRunStore(url, "exp").ReadStoredEvents().Select(e => e.Event).OfType<ChildTrained>().Single();
            Assert.DoesNotContain($":{search.Id}/", trained.WorkerId);
            Assert.InRange(trained.ResumedEpochs ?? 0, 1, 4);
            Assert.Equal((twin.Accuracy, twin.Loss), (trained.Accuracy, trained.Loss));
            Assert.Equal(0, StopsOnSigterm(trainer));
            Assert.Equal(0, StopsOnSigterm(standby));
            // Its worker forgot the checkpoint once the outcome was stored (asked after the nodes stopped: the forgetting follows the storing).
            Assert.Empty(Directory.EnumerateFileSystemEntries(TorchChildTrainer.CheckpointFolder(artifacts)));
        }
        finally
        {
            foreach (var p in new[] { search, standby, trainer })
                if (p is { HasExited: false }) p.Kill();
            standby?.Dispose();
            trainer?.Dispose();
            output.WriteLine($"seed:\n{await searchLog}\nstandby:\n{(standbyLog is null ? "" : await standbyLog)}");
        }
    }
}
