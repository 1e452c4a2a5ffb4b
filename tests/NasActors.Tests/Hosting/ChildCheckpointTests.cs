using System.Diagnostics;
using System.Text.Json;
using NasActors.Persistence;
using NasActors.Search;
using NasActors.Search.Events;
using NasActors.Tests.Support;

namespace NasActors.Tests.Hosting;

/// <summary>
/// Children resume from their last epoch: a search killed (SIGKILL) while its child trains, once
/// resumed, trains that child on from its checkpoint and ends with what an uninterrupted twin on
/// the same seed ends with; its checkpoints are gone once the outcome is stored.
/// </summary>
public class ChildCheckpointTests
{
    private static string Config(TempDir dir) => dir.File("config.json", JsonSerializer.Serialize(new SearchSettings
    {
        Strategy = "random", Seed = 3, Budget = 1, TopK = 0, Trainer = "torch", WorkersPerDevice = 1,
        Search = new SearchSettings().Search with { Cells = 1, Filters = 4, Epochs = 3, ValidationSize = 200, TrainLimit = 400 },
    }, SettingsJson.Options));

    private static ChildTrained Search(string run, string config)
    {
        var r = NasProcess.Run(TimeSpan.FromMinutes(3), "search", "--run", run, "--config", config, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        return new FolderRunStore(run).ReadEvents().OfType<ChildTrained>().Single();
    }

    [Fact]
    public void A_search_killed_mid_child_resumes_the_child_from_its_last_epoch_and_ends_as_an_uninterrupted_twin()
    {
        using var dir = new TempDir();
        var config = Config(dir);
        var twin = Search(Path.Combine(dir.Path, "twin"), config);
        Assert.Null(twin.ResumedEpochs);

        var run = Path.Combine(dir.Path, "run");
        var checkpoint = Path.Combine(RunFolder.Checkpoints(run), "0-search", "checkpoint.bin");
        using (var p = NasProcess.Start("search", "--run", run, "--config", config, "--json"))
        {
            var clock = Stopwatch.StartNew();
            while (!File.Exists(checkpoint) && !p.HasExited && clock.Elapsed < TimeSpan.FromMinutes(2)) Thread.Sleep(20);
            Assert.False(p.HasExited, "the search ended before its child wrote a checkpoint");
            p.Kill();
            p.WaitForExit();
        }
        var resumed = Search(run, config);

        // Resumed from epoch 1 or 2, and trained on as the twin did: the same accuracy and loss.
        Assert.InRange(resumed.ResumedEpochs ?? 0, 1, 2);
        Assert.Equal((twin.Accuracy, twin.Loss), (resumed.Accuracy, resumed.Loss));
        var status = JsonDocument.Parse(NasProcess.Run("status", "--run", run, "--json").Stdout).RootElement;
        Assert.Equal(resumed.ResumedEpochs!.Value, status.GetProperty("resumed_epochs").GetInt64());
        // The checkpoint went with the stored outcome.
        Assert.Empty(Directory.EnumerateFileSystemEntries(RunFolder.Checkpoints(run)));
    }

    [Fact]
    public void A_damaged_checkpoint_is_never_resumed_from_the_child_trains_from_epoch_0_said_in_one_line()
    {
        using var dir = new TempDir();
        var config = Config(dir);
        var run = Path.Combine(dir.Path, "run");
        var checkpoint = Path.Combine(RunFolder.Checkpoints(run), "0-search", "checkpoint.bin");
        using (var p = NasProcess.Start("search", "--run", run, "--config", config, "--json"))
        {
            var clock = Stopwatch.StartNew();
            while (!File.Exists(checkpoint) && !p.HasExited && clock.Elapsed < TimeSpan.FromMinutes(2)) Thread.Sleep(20);
            Assert.False(p.HasExited, "the search ended before its child wrote a checkpoint");
            p.Kill();
            p.WaitForExit();
        }
        // Cut in half, as a full disk leaves a file written by hand (nas writes checkpoints atomically).
        var bytes = File.ReadAllBytes(checkpoint);
        File.WriteAllBytes(checkpoint, bytes[..(bytes.Length / 2)]);

        var r = NasProcess.Run(TimeSpan.FromMinutes(3), "search", "--run", run, "--config", config, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var trained = new FolderRunStore(run).ReadEvents().OfType<ChildTrained>().Single();
        Assert.Null(trained.ResumedEpochs);
        var log = File.ReadAllText(Path.Combine(run, "node.log"));
        Assert.Contains("child 0: its checkpoint was not resumed from, it trained from epoch 0", log);
        Assert.Contains("unreadable checkpoint", log);
    }
}
