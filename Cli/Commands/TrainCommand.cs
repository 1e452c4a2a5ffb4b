using System.CommandLine;
using System.Text.Json;
using NasActors.Training;
using NasActors.Training.Data;
using NasActors.Training.Networks;
using NasActors.Protocol;
using Spectre.Console;

namespace NasActors.Cli.Commands;

/// <summary><c>nas train</c>: trains one network on a real dataset and reports its test accuracy.</summary>
public static class TrainCommand
{
    /// <summary>What a training leaves in --out; a folder holding any of it holds an earlier training.</summary>
    private static readonly string[] Outputs = ["checkpoint.bin", "result.json", "model.pt", "model.py"];

    /// <summary>--out is a folder this process can write, and holds no earlier training unless resumed: said before any work.</summary>
    private static void CheckOut(string dir, bool resume)
    {
        if (File.Exists(dir)) throw new InputException("--out", $"{dir} is a file; give a folder");
        var kept = Outputs.Where(f => File.Exists(Path.Combine(dir, f))).ToArray();
        if (!resume && kept.Length > 0)
            throw new InputException("--out", $"{dir} already holds {(kept.Contains("checkpoint.bin") ? "a checkpoint" : "an earlier training")} ({string.Join(", ", kept)}): " +
                                              "pass --resume to continue its checkpoint, or choose another folder");
        try
        {
            Directory.CreateDirectory(dir);
            var probe = Path.Combine(dir, $".nas-write-check-{Environment.ProcessId}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputException("--out", $"cannot write to {dir}: {e.Message}");
        }
    }

    public static Command Create()
    {
        var network = new NetworkOptions(defaultCells: 1, defaultFilters: 8);
        var epochs = new Option<int>("--epochs", "-e") { Description = "training epochs", DefaultValueFactory = _ => 1 };
        var dataset = new Option<string>("--dataset", "-d") { Description = DatasetSpec.Help, DefaultValueFactory = _ => DatasetSpec.Default };
        var image = new Option<int?>("--image") { Description = $"image size the network takes, for folder: datasets (resized, then centre-cropped; default {ImageFolderReader.DefaultImageSize})" };
        var trainLimit = new Option<int?>("--train-limit") { Description = "train on at most this many images (after holding out validation)" };
        var validation = new Option<int?>("--validation") { Description = "training images held out for validation (default: 10%, at most 5,000)" };
        var batch = new Option<int>("--batch", "-b") { Description = "batch size", DefaultValueFactory = _ => 64 };
        var lr = new Option<double>("--lr") { Description = "initial learning rate (cosine schedule to 0)", DefaultValueFactory = _ => 0.05, CustomParser = r => SizingOptions.ParseFloat(r) ?? 0 };
        var weightDecay = new Option<double>("--weight-decay") { Description = "L2 weight decay", DefaultValueFactory = _ => 3e-4 };
        var labelSmoothing = new Option<double>("--label-smoothing") { Description = "label smoothing (0 = off)", DefaultValueFactory = _ => 0.0 };
        var clip = new Option<double?>("--grad-clip") { Description = "gradient norm clip (default 5)" };
        var cutout = new Option<int>("--cutout") { Description = "cutout square size in pixels (0 = off)", DefaultValueFactory = _ => 0 };
        var augment = new Option<string?>("--augment") { Description = Augmentation.Help };
        var seed = new Option<int>("--seed") { Description = "seed for initialisation, split, order and augmentation", DefaultValueFactory = _ => 0 };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N", DefaultValueFactory = _ => "cpu" };
        var output = new Option<string?>("--out", "-o") { Description = "folder for the per-epoch checkpoint, result.json, and the trained network for PyTorch (model.py, model.pt)" };
        var resume = new Option<bool>("--resume") { Description = "continue from the checkpoint in --out" };
        var json = new Option<bool>("--json") { Description = "print one JSON object (no progress display)" };

        var command = new Command("train", "Train a network built from a genotype and report validation and test accuracy")
        {
            epochs, dataset, image, trainLimit, validation, batch, lr, weightDecay, labelSmoothing, clip, cutout, augment, seed, device, output, resume, json,
        };
        network.AddTo(command);
        var speed = new SpeedOptions();
        speed.AddTo(command);
        command.SetAction((parse, cancel) => Task.FromResult(CommandErrors.Guard(() =>
        {
            var dir = parse.GetValue(output);
            if (parse.GetValue(resume) && dir is null)
                throw new InputException("--resume", "needs --out DIR (the folder holding the checkpoint)");
            if (dir is not null) CheckOut(dir, parse.GetValue(resume));

            var torchDevice = OptionErrors.Device("--device", parse.GetValue(device)!);
            var augmentKind = Augmentation.Parse(parse.GetValue(augment));
            ImageDataset.StreamAboveBytes();
            var pair = DatasetSpec.Parse(parse.GetValue(dataset)!).Load(parse.GetValue(image));
            var validationSize = parse.GetValue(validation) ?? DataSplits.DefaultValidationSize(pair.Train.Count);
            var splits = DataSplits.Create(pair, validationSize, parse.GetValue(trainLimit), parse.GetValue(seed));
            var train = splits.Train;
            var plan = NetworkPlan.Create(network.Config(parse, train.Channels, train.Height, train.Classes, NetworkConfig.StemFor(train.Height)));
            var config = speed.Apply(parse, new TrainingConfig
            {
                Epochs = parse.GetValue(epochs),
                BatchSize = parse.GetValue(batch),
                LearningRate = parse.GetValue(lr),
                WeightDecay = parse.GetValue(weightDecay),
                LabelSmoothing = parse.GetValue(labelSmoothing),
                GradientClip = parse.GetValue(clip) ?? 5.0,
                CutoutSize = parse.GetValue(cutout),
                Augment = augmentKind,
                Seed = parse.GetValue(seed),
            });

            // The trained network for PyTorch users, beside the checkpoint. Its failure is said after
            // result.json is written: the training is not lost with it.
            Exception? exportFailure = null;
            Action<NasNetwork, Preprocessing>? export = dir is null
                ? null
                : (model, pre) =>
                {
                    try
                    {
                        PyTorchExport.Write(dir, model, pre, $"{parse.GetValue(network.Genotype)} trained by nas train on {parse.GetValue(dataset)}");
                    }
                    catch (Exception e)
                    {
                        exportFailure = e;
                    }
                };
            var result = parse.GetValue(json)
                ? ChildTraining.Train(plan, splits, config, torchDevice, checkpointDir: dir, evaluateTest: true, cancel: cancel, trained: export)
                : TrainWithProgress(plan, splits, config, torchDevice, dir, cancel, export);
            var summary = new
            {
                accuracy = result.TestAccuracy,
                val_accuracy = result.ValidationAccuracy,
                train_loss = result.FinalTrainLoss,
                @params = result.Parameters,
                mult_adds = result.MultAdds,
                seconds = result.Seconds,
                epochs = config.Epochs,
                train_images = train.Count,
                validation_images = splits.Validation.Count,
                test_images = splits.Test.Count,
                dataset = parse.GetValue(dataset),
                device = torchDevice.ToString(),
                network = plan.Name,
                history = result.History,
            };
            var text = JsonSerializer.Serialize(summary, Json.Options);
            if (dir is not null)
                AtomicFile.WriteAllText(Path.Combine(dir, "result.json"), text + "\n");
            if (exportFailure is not null)
                throw new IOException($"trained (result.json and the checkpoint are in {dir}), but model.py and model.pt were not written: {exportFailure.Message}", exportFailure);
            if (parse.GetValue(json))
            {
                Console.Out.WriteLine(text);
            }
            else
            {
                var table = new Table().HideHeaders().AddColumns("", "");
                table.AddRow("test accuracy", $"{result.TestAccuracy:P2} ({splits.Test.Count:N0} images)");
                table.AddRow("validation accuracy", $"{result.ValidationAccuracy:P2} ({splits.Validation.Count:N0} images)");
                table.AddRow("network", $"{plan.Name}, {result.Parameters:N0} parameters, {result.MultAdds / 1e6:F1}M mult-adds");
                table.AddRow("training", $"{config.Epochs} epochs on {train.Count:N0} images, {result.Seconds:F1} s on {torchDevice}");
                Output.Stdout.Write(table);
            }
            return ExitCodes.Ok;
        })));
        return command;
    }

    private static TrainingResult TrainWithProgress(NetworkPlan plan, DataSplits splits, TrainingConfig config, TorchSharp.torch.Device device, string? dir, CancellationToken cancel,
        Action<NasNetwork, Preprocessing>? export)
    {
        var steps = ChildTraining.StepsPerEpoch(splits, config);
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        TrainingResult? result = null;
        console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var tasks = Enumerable.Range(1, config.Epochs)
                    .Select(e => ctx.AddTask($"epoch {e}/{config.Epochs}", autoStart: false, maxValue: steps))
                    .ToArray();
                result = ChildTraining.Train(plan, splits, config, device,
                    progress: r =>
                    {
                        var t = tasks[r.Epoch - 1];
                        t.Value = steps;
                        t.Description = $"epoch {r.Epoch}/{r.Epochs} loss {r.TrainLoss:F3} train {r.TrainAccuracy:P1} val {r.ValidationAccuracy:P1}";
                        t.StopTask();
                    },
                    checkpointDir: dir, evaluateTest: true, cancel: cancel, trained: export,
                    stepProgress: (epoch, step) =>
                    {
                        if (!tasks[epoch].IsStarted) tasks[epoch].StartTask();
                        tasks[epoch].Value = step;
                    });
            });
        return result!;
    }
}
