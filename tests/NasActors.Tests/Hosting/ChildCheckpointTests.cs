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

    /// <summary>Starts a search and kills it (SIGKILL) as soon as its child has written a checkpoint; returns the checkpoint's path.</summary>
    private static string KilledOnceCheckpointed(string run, string config)
    {
        var checkpoint = Path.Combine(TorchChildTrainer.CheckpointFolder(run), "0-search", "checkpoint.bin");
        using var p = NasProcess.Start("search", "--run", run, "--config", config, "--json");
        var clock = Stopwatch.StartNew();
        // Polled: the checkpoint is the moment to kill at, and nothing else announces it.
        while (!File.Exists(checkpoint) && !p.HasExited && clock.Elapsed < TimeSpan.FromMinutes(2)) Thread.Sleep(20);
        Assert.False(p.HasExited, "the search ended before its child wrote a checkpoint");
        p.Kill();
        p.WaitForExit();
        return checkpoint;
    }

    [Fact]
    public void A_search_killed_mid_child_resumes_the_child_from_its_last_epoch_and_ends_as_an_uninterrupted_twin()
    {
        using var dir = new TempDir();
        var config = Config(dir);
        var twin = Search(Path.Combine(dir.Path, "twin"), config);
        Assert.Null(twin.ResumedEpochs);

        var run = Path.Combine(dir.Path, "run");
        var checkpoint = KilledOnceCheckpointed(run, config);
        var resumed = Search(run, config);

        // Resumed from epoch 1 or 2, and trained on as the twin did: the same accuracy and loss.
        Assert.InRange(resumed.ResumedEpochs ?? 0, 1, 2);
        Assert.Equal((twin.Accuracy, twin.Loss), (resumed.Accuracy, resumed.Loss));
        var status = JsonDocument.Parse(NasProcess.Run("status", "--run", run, "--json").Stdout).RootElement;
        Assert.Equal(resumed.ResumedEpochs!.Value, status.GetProperty("resumed_epochs").GetInt64());
        // The worker's row and the report's timeline show the resumed attempt.
        var worker = JsonDocument.Parse(NasProcess.Run("workers", "--run", run, "--json").Stdout).RootElement.EnumerateArray().Single(w => w.GetProperty("trained").GetInt32() == 1);
        Assert.Equal((1, resumed.ResumedEpochs.Value), (worker.GetProperty("resumed").GetInt32(), worker.GetProperty("resumed_epochs").GetInt32()));
        var store = new FolderRunStore(run);
        var span = NasActors.Reports.RunReportBuilder.Build("run", store.ReadJournal(), DateTimeOffset.UtcNow).Timeline.Rows.Single(s => s.Outcome == "trained");
        Assert.Equal(resumed.ResumedEpochs, span.ResumedEpochs);
        // The checkpoint went with the stored outcome.
        Assert.Empty(Directory.EnumerateFileSystemEntries(TorchChildTrainer.CheckpointFolder(run)));
    }

    [Fact]
    public async Task A_child_from_a_trainer_node_killed_mid_child_resumes_on_another_node_from_the_shared_artifacts_directory()
    {
        using var dir = new TempDir();
        var config = Config(dir);
        var twin = Search(Path.Combine(dir.Path, "twin"), config);
        var artifacts = Directory.CreateDirectory(Path.Combine(dir.Path, "artifacts")).FullName;
        var run = Path.Combine(dir.Path, "run");
        var seed = $"127.0.0.1:{FreePort()}";
        using var search = Start(SeedSearch(seed, "--run", run, "--config", config, "--json"));
        var stdout = search.StandardOutput.ReadToEndAsync();
        var stderr = search.StandardError.ReadToEndAsync();
        var nodes = new List<Process>();
        try
        {
            foreach (var _ in new[] { 1, 2 })
            {
                var node = Start("node", "--join", seed, "--trainer", "torch", "--artifacts", artifacts);
                nodes.Add(node);
                await Announced(node);
            }
            // The node training the child dies (SIGKILL) once the child has a checkpoint.
            var checkpoint = Path.Combine(TorchChildTrainer.CheckpointFolder(artifacts), "0-search", "checkpoint.bin");
            var clock = Stopwatch.StartNew();
            while (!File.Exists(checkpoint) && clock.Elapsed < TimeSpan.FromMinutes(2)) await Task.Delay(20);
            Assert.True(File.Exists(checkpoint), "the child wrote no checkpoint");
            var worker = new FolderRunStore(run).ReadState().SearchJobs.Running[0];
            var killed = nodes.Single(n => worker.Contains($":{n.Id}/", StringComparison.Ordinal));
            killed.Kill();

            Assert.True(search.WaitForExit(TimeSpan.FromMinutes(3)), "the search did not finish after the node was lost");
            Assert.True(search.ExitCode == 0, await stderr);
            var trained = new FolderRunStore(run).ReadEvents().OfType<ChildTrained>().Single();
            Assert.DoesNotContain($":{killed.Id}/", trained.WorkerId);
            Assert.InRange(trained.ResumedEpochs ?? 0, 1, 2);
            Assert.Equal((twin.Accuracy, twin.Loss), (trained.Accuracy, trained.Loss));
            Assert.Empty(Directory.EnumerateFileSystemEntries(TorchChildTrainer.CheckpointFolder(artifacts)));
        }
        finally
        {
            foreach (var p in nodes.Append(search))
                if (!p.HasExited) p.Kill();
            foreach (var n in nodes) n.Dispose();
        }
    }

    [Fact]
    public void A_finalists_trained_network_is_kept_and_exported_as_trained_and_PyTorch_measures_its_reported_test_accuracy()
    {
        using var dir = new TempDir();
        var tiny = new SearchSettings().Search with { Cells = 1, Filters = 4, Epochs = 1, ValidationSize = 200, TrainLimit = 400 };
        var config = dir.File("config.json", JsonSerializer.Serialize(new SearchSettings
        {
            Strategy = "random", Seed = 3, Budget = 1, TopK = 1, Trainer = "torch", WorkersPerDevice = 1, Search = tiny, Final = tiny with { TrainLimit = 600 },
        }, SettingsJson.Options));
        var run = Path.Combine(dir.Path, "run");
        var r = NasProcess.Run(TimeSpan.FromMinutes(3), "search", "--run", run, "--config", config, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var final = JsonDocument.Parse(NasProcess.Run("top", "--run", run, "--json").Stdout).RootElement[0].GetProperty("final_test_accuracy").GetDouble();
        // The journal and the report say where the network was kept, and by whom.
        var completed = new FolderRunStore(run).ReadEvents().OfType<FinalTrainingCompleted>().Single();
        Assert.Equal(Path.GetFullPath(TorchChildTrainer.FinalistFolder(run, completed.ChildId)), completed.Weights);
        var top = NasActors.Reports.RunReportBuilder.Build("run", new FolderRunStore(run).ReadJournal(), DateTimeOffset.UtcNow).Top.Single();
        Assert.Equal((completed.Weights, completed.WorkerId), (top.Weights, top.WeightsWorker));

        var model = Path.Combine(dir.Path, "model");
        var export = NasProcess.Run("export", "--run", run, "--rank", "1", "--format", "pytorch", "--weights", "--out", model);
        Assert.True(export.ExitCode == 0, export.Stderr);
        var data = NasActors.Training.Data.DatasetSpec.BundledDirectory;
        var accuracy = PythonTorch.Run("accuracy", model, Path.Combine(data, "t10k-images-idx3-ubyte.gz"), Path.Combine(data, "t10k-labels-idx1-ubyte.gz"))
            .GetProperty("accuracy").GetDouble();
        Assert.True(Math.Abs(accuracy - final) <= 0.01, $"PyTorch {accuracy:P2}, the run's final test accuracy {final:P2}");

        // What the kept network cannot be: reshaped, or a child without a final training.
        var reshaped = NasProcess.Run("export", "--run", run, "--format", "pytorch", "--weights", "--cells", "2", "--out", model);
        Assert.Equal(2, reshaped.ExitCode);
        Assert.Contains("--weights exports the final training's network as it was trained", reshaped.Stderr);
        var genotype = NasProcess.Run("export", "--run", run, "--weights", "--out", model);
        Assert.Contains("--weights: needs --format pytorch", genotype.Stderr);
    }

    [Fact]
    public void A_damaged_checkpoint_is_never_resumed_from_the_child_trains_from_epoch_0_said_in_one_line()
    {
        using var dir = new TempDir();
        var config = Config(dir);
        var run = Path.Combine(dir.Path, "run");
        var checkpoint = KilledOnceCheckpointed(run, config);
        // Cut in half, as a full disk leaves a file written by hand (nas writes checkpoints atomically).
        var bytes = File.ReadAllBytes(checkpoint);
        File.WriteAllBytes(checkpoint, bytes[..(bytes.Length / 2)]);

        var r = NasProcess.Run(TimeSpan.FromMinutes(3), "search", "--run", run, "--config", config, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var trained = new FolderRunStore(run).ReadEvents().OfType<ChildTrained>().Single();
        Assert.Null(trained.ResumedEpochs);
        var log = File.ReadAllText(Path.Combine(run, "node.log"));
        Assert.Contains("child 0: its checkpoint was not resumed from, it trained from epoch 0", log);
        Assert.Contains("damaged checkpoint (its SHA-256 does not match its content)", log);
    }
}
