using System.Text.Json;
using NasActors.Training.Data;
using NasActors.Training.Networks;
using NasActors.Training;
using NasActors.SearchSpace;
using NasActors.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace NasActors.Tests.Training;

/// <summary>The network for PyTorch users, checked in PyTorch itself (Debian's python3-torch).</summary>
[Collection(TorchCollection.Name)]
public class PyTorchExportTests
{
    private static long ModelParams(params string[] args)
    {
        var r = NasProcess.Run(["model", "--json", .. args]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        return doc.RootElement.GetProperty("params").GetInt64();
    }

    private static readonly (string Genotype, string Cells, string Filters, string Dataset)[] Networks =
    [
        ("nasnet-a", "6", "32", "cifar10"),      // 6@768, 3.3M
        ("nasnet-a", "4", "44", "imagenet"),     // 4@1056, 5.3M
        ("amoebanet-a", "2", "16", "cifar10"),   // the bottleneck op, explicit output sets
        ("pnasnet-5", "2,1,1", "16", "cifar10"), // per-stage counts
        ("darts-v2", "2", "16", "cifar10"),      // separable dilated convs, skip connections
    ];

    [Fact]
    public void Exported_modules_have_the_parameter_counts_nas_model_prints()
    {
        using var dir = new TempDir();
        var files = Networks.Select((_, i) => Path.Combine(dir.Path, $"model{i}.py")).ToArray();
        var expected = Networks.Select((n, i) => ModelParams("--genotype", n.Genotype, "--cells", n.Cells, "--filters", n.Filters, "--dataset", n.Dataset, "--pytorch", files[i])).ToList();
        // One PyTorch process for all of them: importing torch is the slow part.
        var python = PythonTorch.Run(["params", .. files]);
        Assert.Equal(expected, python.GetProperty("params").EnumerateArray().Select(p => p.GetInt64()));
        Assert.Equal(expected, python.GetProperty("declared").EnumerateArray().Select(p => p.GetInt64()));
    }

    [Fact]
    public void A_searched_child_exports_at_any_size_with_the_parameter_count_nas_model_prints()
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        var search = NasProcess.Run("search", "--run", run, "--children", "4", "--top-k", "0", "--strategy", "random", "--trainer", "synthetic", "--json");
        Assert.True(search.ExitCode == 0, search.Stderr);
        var genotype = dir.File("best.json", NasProcess.Run("export", "--run", run, "--rank", "1").Stdout);
        var module = Path.Combine(dir.Path, "best.py");
        var export = NasProcess.Run("export", "--run", run, "--rank", "1", "--format", "pytorch", "--cells", "3", "--filters", "20", "--aux", "--out", module);
        Assert.True(export.ExitCode == 0, export.Stderr);
        Assert.Contains("import torch", File.ReadAllText(module));
        Assert.Equal(ModelParams("--genotype", genotype, "--cells", "3", "--filters", "20", "--aux"), Assert.Single(PythonTorch.Run("params", module).GetProperty("params").EnumerateArray()).GetInt64());
    }

    [Fact]
    public void A_trained_network_gives_PyTorch_the_same_logits_and_test_accuracy()
    {
        using var dir = new TempDir();
        var splits = DataSplits.Create(DataTests.LoadMini(), 200, 600, seed: 3);
        var plan = NetworkPlan.Create(new NetworkConfig(PublishedCells.AmoebaNetA, 1, 8, 10, 1, 28, StemKind.Cifar));
        var batchFile = Path.Combine(dir.Path, "batch.f32");
        float[][]? expected = null;
        var result = ChildTraining.Train(plan, splits, new TrainingConfig { Epochs = 1, BatchSize = 50, LearningRate = 0.1, Seed = 3 }, CPU, evaluateTest: true,
            trained: (model, pre) =>
            {
                PyTorchExport.Write(dir.Path, model, pre, "test");
                // The first eight test images, as nas feeds them, and the logits nas computes for them.
                using var scope = NewDisposeScope();
                using var byteMax = 255f.ToScalar();
                using var mean = pre.Mean[0].ToScalar();
                using var std = pre.Std[0].ToScalar();
                var pixels = tensor(splits.Test.ReadAll()[..(8 * 28 * 28)], [8, 1, 28, 28]).to_type(float32);
                var input = pixels.div(byteMax).sub(mean).div(std);
                File.WriteAllBytes(batchFile, input.data<float>().ToArray().SelectMany(BitConverter.GetBytes).ToArray());
                model.eval();
                using (no_grad())
                {
                    var logits = model.forward(input);
                    expected = [.. Enumerable.Range(0, 8).Select(i => logits[i].data<float>().ToArray())];
                }
            });
        Assert.True(File.Exists(Path.Combine(dir.Path, "model.pt")));

        var python = PythonTorch.Run("logits", dir.Path, batchFile, "8").GetProperty("logits");
        var worst = Enumerable.Range(0, 8).SelectMany(i => python[i].EnumerateArray().Select((v, j) => Math.Abs(v.GetDouble() - expected![i][j]))).Max();
        Assert.True(worst < 1e-4, $"PyTorch's logits differ from nas's by up to {worst}");

        var data = DatasetSpec.BundledDirectory;
        var accuracy = PythonTorch.Run("accuracy", dir.Path, Path.Combine(data, "t10k-images-idx3-ubyte.gz"), Path.Combine(data, "t10k-labels-idx1-ubyte.gz"))
            .GetProperty("accuracy").GetDouble();
        Assert.True(Math.Abs(accuracy - result.TestAccuracy!.Value) <= 0.01, $"PyTorch {accuracy:P2}, nas {result.TestAccuracy:P2}");
    }

    [Fact]
    public void Nas_train_out_writes_the_module_and_the_weights_PyTorch_loads_strictly()
    {
        using var dir = new TempDir();
        var r = NasProcess.Run("train", "--genotype", "darts-v2", "--cells", "1", "--filters", "8", "--train-limit", "300", "--out", dir.Path, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var result = JsonDocument.Parse(r.Stdout);
        var data = DatasetSpec.BundledDirectory;
        var accuracy = PythonTorch.Run("accuracy", dir.Path, Path.Combine(data, "t10k-images-idx3-ubyte.gz"), Path.Combine(data, "t10k-labels-idx1-ubyte.gz"))
            .GetProperty("accuracy").GetDouble();
        Assert.True(Math.Abs(accuracy - result.RootElement.GetProperty("accuracy").GetDouble()) <= 0.01, $"PyTorch {accuracy:P2}, nas {r.Stdout}");
        Assert.Contains("CLASSES = [\"T-shirt/top\", \"Trouser\"", File.ReadAllText(Path.Combine(dir.Path, "model.py")));
    }
}
