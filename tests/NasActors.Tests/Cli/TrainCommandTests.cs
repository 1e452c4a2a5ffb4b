using System.Text.Json;
using NasActors.Tests.Support;

namespace NasActors.Tests.Cli;

public class TrainCommandTests
{
    private static readonly string[] Tiny = ["train", "-N", "1", "-F", "4", "--train-limit", "200", "--validation", "100", "--epochs", "1", "--batch", "50"];

    [Fact]
    public void Model_json_reports_NasNetA_CIFAR_size()
    {
        var r = NasProcess.Run("model", "--genotype", "nasnet-a", "--cells", "6", "--filters", "32", "--dataset", "cifar10", "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal(768, doc.RootElement.GetProperty("penultimate_filters").GetInt32());
        // The paper's 3.3M; the exact counts pin every layer of the plan.
        Assert.Equal(3_328_234, doc.RootElement.GetProperty("params").GetInt64());
        Assert.Equal(525_786_624, doc.RootElement.GetProperty("mult_adds").GetInt64());
    }

    [Fact]
    public void Train_json_trains_on_the_bundled_data_and_resume_needs_to_be_asked_for()
    {
        using var dir = new TempDir();
        var r = NasProcess.Run([.. Tiny, "--json", "--out", dir.Path]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        foreach (var key in new[] { "accuracy", "val_accuracy", "params", "mult_adds", "seconds" })
            Assert.True(root.TryGetProperty(key, out _), $"missing {key}");
        // NASNet-A 1@96 on 28x28x1 images, counted exactly; learning itself is TrainingTests' job.
        Assert.Equal(24_662, root.GetProperty("params").GetInt64());
        Assert.Equal(3_024_064, root.GetProperty("mult_adds").GetInt64());
        Assert.Equal(root.GetProperty("accuracy").GetDouble() * 1000, Math.Round(root.GetProperty("accuracy").GetDouble() * 1000), 9);
        Assert.Equal(1000, root.GetProperty("test_images").GetInt32());
        Assert.True(File.Exists(Path.Combine(dir.Path, "result.json")));

        var again = NasProcess.Run([.. Tiny, "--json", "--out", dir.Path]);
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("already holds a checkpoint", again.Stderr);

        // Every epoch is already done: resuming reports the stored result without training again.
        var resumed = NasProcess.Run([.. Tiny, "--json", "--out", dir.Path, "--resume"]);
        Assert.Equal(0, resumed.ExitCode);
        using var resumedDoc = JsonDocument.Parse(resumed.Stdout);
        Assert.Equal(root.GetProperty("val_accuracy").GetDouble(), resumedDoc.RootElement.GetProperty("val_accuracy").GetDouble());
    }

    [Fact]
    public void The_same_seed_trains_the_same_in_another_process()
    {
        // A crashed search retrains or resumes its children in a new process: what was seeded in
        // the process (HashCode.Combine once chose the batches) would make that another training.
        string[] args = ["train", "-N", "1", "-F", "4", "--train-limit", "100", "--validation", "50", "--epochs", "1", "--batch", "25", "--seed", "7", "--json"];
        var runs = new[] { NasProcess.Run(args), NasProcess.Run(args) };
        Assert.All(runs, r => Assert.True(r.ExitCode == 0, r.Stderr));
        var losses = runs.Select(r => JsonDocument.Parse(r.Stdout).RootElement.GetProperty("history").EnumerateArray()
            .Select(h => h.GetProperty("train_loss").GetDouble()).ToList()).ToList();
        Assert.Single(losses[0]);
        Assert.Equal(losses[0], losses[1]);
        Assert.Equal(JsonDocument.Parse(runs[0].Stdout).RootElement.GetProperty("val_accuracy").GetDouble(),
            JsonDocument.Parse(runs[1].Stdout).RootElement.GetProperty("val_accuracy").GetDouble());
    }

    [Fact]
    public void Train_names_a_missing_device_and_a_broken_dataset()
    {
        var cuda = NasProcess.Run([.. Tiny, "--device", "cuda:0"]);
        Assert.Equal(1, cuda.ExitCode);
        Assert.Contains("device cuda:0", cuda.Stderr);

        using var dir = new TempDir();
        dir.File("train-images-idx3-ubyte", "not an idx file at all");
        dir.File("train-labels-idx1-ubyte", "nor this");
        var broken = NasProcess.Run([.. Tiny, "--dataset", $"mnist:{dir.Path}"]);
        Assert.Equal(1, broken.ExitCode);
        Assert.Contains("train-images-idx3-ubyte: wrong magic number", broken.Stderr);

        var badGenotype = NasProcess.Run([.. Tiny, "--genotype", dir.File("g.json", "{}")]);
        Assert.Equal(2, badGenotype.ExitCode);
        Assert.Contains("$.normal: required field is missing", badGenotype.Stderr);
    }
}
