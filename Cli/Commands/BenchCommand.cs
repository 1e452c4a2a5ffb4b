using System.CommandLine;
using NasActors.Bench;
using NasActors.Training;
using NasActors.Training.Data;
using NasActors.Training.Kernels;
using NasActors.Training.Networks;
using NasActors.ChildTrainer.Synthetic;
using NasActors.Controller.Strategies;
using NasActors.Protocol;
using NasActors.Persistence;
using NasActors.Search;

namespace NasActors.Cli.Commands;

/// <summary><c>nas bench</c>: the benchmarks whose figures go into bench/RESULTS.md.</summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var command = new Command("bench", "Benchmarks (figures for bench/RESULTS.md)");
        command.Subcommands.Add(TrainBench());
        command.Subcommands.Add(ControllerBench());
        command.Subcommands.Add(SearchBench());
        command.Subcommands.Add(ClusterBench());
        command.Subcommands.Add(DatasetBench());
        command.Subcommands.Add(EarlyStoppingBench());
        command.Subcommands.Add(ObjectivesBench());
        command.Subcommands.Add(LatencyBench());
        return command;
    }

    private static Command EarlyStoppingBench()
    {
        var children = new Option<int>("--children") { Description = "children per search trained in full", DefaultValueFactory = _ => 1000 };
        var workers = new Option<int>("--workers") { Description = "simulated workers", DefaultValueFactory = _ => 16 };
        var epochs = new Option<int>("--epochs") { Description = "a child's full budget in epochs", DefaultValueFactory = _ => 20 };
        var seeds = new Option<int>("--seeds") { Description = "seeds per strategy and correlation", DefaultValueFactory = _ => 5 };
        var correlations = new Option<string>("--correlations") { Description = "rank correlations between first-epoch and final accuracy", DefaultValueFactory = _ => "0.5,0.7,0.9" };
        var strategies = new Option<string>("--strategies") { Description = "strategies to compare", DefaultValueFactory = _ => string.Join(",", StrategyCatalog.Names) };
        var stopped = new Option<string>("--stopped")
        {
            Description = "what strategies learn from stopped children, each measured: default, ignore, rung-accuracy",
            DefaultValueFactory = _ => "default",
        };
        var grace = new Option<int>("--grace-epochs") { DefaultValueFactory = _ => 1, Description = "ASHA's grace epochs" };
        var eta = new Option<int>("--reduction-factor") { DefaultValueFactory = _ => 3, Description = "ASHA's eta" };
        var json = new Option<bool>("--json") { Description = "print every search and the summary as one JSON object" };
        var command = new Command("early-stopping", "ASHA against full training on synthetic learning curves: best final accuracy against child-epochs, per strategy")
        {
            children, workers, epochs, seeds, correlations, strategies, stopped, grace, eta, json,
        };
        command.SetAction(parse => CommandErrors.Guard(() =>
        {
            var asha = new EarlyStopSettings { GraceEpochs = parse.GetValue(grace), ReductionFactor = parse.GetValue(eta) };
            if (asha.Errors(parse.GetValue(epochs)) is { Count: > 0 } errors) throw new InputException(string.Join("; ", errors));
            if (parse.GetValue(children) < 1 || parse.GetValue(workers) < 1 || parse.GetValue(seeds) < 1)
                throw new InputException("--children, --workers and --seeds must be at least 1");
            var rhos = parse.GetValue(correlations)!.Split(',').Select(c =>
                double.TryParse(c, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var r) && r is >= 0 and <= 1
                    ? r : throw new InputException("--correlations", $"\"{c}\" is not a correlation in [0, 1]")).ToList();
            var kinds = parse.GetValue(strategies)!.Split(',').Select(k => StrategyCatalog.Names.Contains(k) ? k
                : throw new InputException("--strategies", $"unknown strategy \"{k}\" (expected {string.Join(", ", StrategyCatalog.Names)})")).ToList();
            var choices = parse.GetValue(stopped)!.Split(',').Select(c => c switch
            {
                "default" => (StoppedChildren?)null,
                "ignore" => StoppedChildren.Ignore,
                "rung-accuracy" => StoppedChildren.RungAccuracy,
                _ => throw new InputException("--stopped", $"\"{c}\" is not default, ignore or rung-accuracy"),
            }).ToList();
            var setup = new EarlyStoppingBenchmark.Setup(parse.GetValue(children), parse.GetValue(workers), parse.GetValue(epochs), asha);
            var quiet = parse.GetValue(json);
            var runs = EarlyStoppingBenchmark.Run(setup, kinds, rhos, parse.GetValue(seeds), choices,
                o => { if (!quiet) Console.Error.WriteLine($"{o.Strategy} {o.Stopped} rho {o.Correlation} seed {o.Seed} {o.Mode}: {o.Children} children, {o.Epochs} epochs, best {o.BestFinal:F4}"); });
            var summary = EarlyStoppingBenchmark.Summarize(runs);
            if (quiet) Output.Object(new { Setup = setup, Summary = summary, Runs = runs }, json: true);
            else
                Output.Rows(summary, json: false,
                    ("strategy", r => r.Strategy), ("stopped teach", r => r.Stopped), ("rho", r => $"{r.Correlation}"), ("mode", r => r.Mode),
                    ("children", r => $"{r.Children:F0}"), ("child-epochs", r => $"{r.Epochs:F0}"), ("best final", r => $"{r.BestFinal:F4} ± {r.BestFinalSd:F4}"),
                    ("best sampled", r => $"{r.BestSampled:F4}"), ("seeds", r => $"{r.Seeds}"));
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command ObjectivesBench()
    {
        var children = new Option<int>("--children") { Description = "children per search", DefaultValueFactory = _ => 300 };
        var workers = new Option<int>("--workers") { Description = "simulated workers", DefaultValueFactory = _ => 8 };
        var epochs = new Option<int>("--epochs") { Description = "a child's full budget in epochs", DefaultValueFactory = _ => 20 };
        var seeds = new Option<int>("--seeds") { Description = "seeds per strategy and mode", DefaultValueFactory = _ => 5 };
        var correlation = new Option<double>("--correlation") { Description = "rank correlation between first-epoch and final accuracy", DefaultValueFactory = _ => 0.7 };
        var reference = new Option<double>("--reference-mult-adds") { Description = "the hypervolume's reference point in mult-adds", DefaultValueFactory = _ => 7e6 };
        var strategies = new Option<string>("--strategies") { Description = "strategies to compare", DefaultValueFactory = _ => string.Join(",", StrategyCatalog.Names) };
        var rewards = new Option<string>("--ppo-rewards") { Description = "PPO's scalar rewards to measure: mnasnet, parego", DefaultValueFactory = _ => ObjectiveSet.DefaultReward };
        var json = new Option<bool>("--json") { Description = "print every curve's final value and the summary as one JSON object" };
        var command = new Command("objectives", "Accuracy against mult-adds on synthetic learning curves: hypervolume against children, per strategy, with and without ASHA")
        {
            children, workers, epochs, seeds, correlation, reference, strategies, rewards, json,
        };
        command.SetAction(parse => CommandErrors.Guard(() =>
        {
            if (parse.GetValue(children) < 1 || parse.GetValue(workers) < 1 || parse.GetValue(seeds) < 1)
                throw new InputException("--children, --workers and --seeds must be at least 1");
            if (parse.GetValue(correlation) is not (>= 0 and <= 1)) throw new InputException("--correlation", "must be in [0, 1]");
            if (new EarlyStopSettings().Errors(parse.GetValue(epochs)) is { Count: > 0 } wrongEpochs) throw new InputException("--epochs", string.Join("; ", wrongEpochs));
            if (!(parse.GetValue(reference) > 0)) throw new InputException("--reference-mult-adds", "must be positive");
            var kinds = parse.GetValue(strategies)!.Split(',').Select(k => StrategyCatalog.Names.Contains(k) ? k
                : throw new InputException("--strategies", $"unknown strategy \"{k}\" (expected {string.Join(", ", StrategyCatalog.Names)})")).ToList();
            var setup = new ObjectivesBenchmark.Setup(parse.GetValue(children), parse.GetValue(workers), parse.GetValue(epochs), parse.GetValue(correlation),
                new EarlyStopSettings(), parse.GetValue(reference));
            var quiet = parse.GetValue(json);
            var scalars = parse.GetValue(rewards)!.Split(',').Select(r => ObjectiveSet.Rewards.Contains(r) ? (string?)r
                : throw new InputException("--ppo-rewards", $"unknown reward \"{r}\" (expected {string.Join(", ", ObjectiveSet.Rewards)})")).ToList();
            var curves = ObjectivesBenchmark.Run(setup, kinds, parse.GetValue(seeds), scalars,
                c => { if (!quiet) Console.Error.WriteLine($"{c.Strategy}{(c.Asha ? " asha" : "")} seed {c.Seed}: hypervolume {c.Hypervolume[^1]:F4}, front {c.FrontSize}, {c.Epochs} epochs"); });
            var summary = ObjectivesBenchmark.Summarize(curves);
            if (quiet) Output.Object(new { Setup = setup, Summary = summary, Runs = curves.Select(c => new { c.Strategy, c.Asha, c.Seed, Final = c.Hypervolume[^1], c.Epochs, c.FrontSize }) }, json: true);
            else
                Output.Rows(summary, json: false,
                    ("strategy", r => r.Strategy), ("ASHA", r => r.Asha ? "yes" : "no"), ("HV at 10%", r => $"{r.At10:F4}"), ("at 25%", r => $"{r.At25:F4}"),
                    ("at 50%", r => $"{r.At50:F4}"), ("final", r => $"{r.Final:F4} ± {r.FinalSd:F4}"),
                    ("children to random's final", r => r.ChildrenToRandomFinal is { } n ? $"{n}" : "never"), ("child-epochs", r => $"{r.Epochs:F0}"), ("seeds", r => $"{r.Seeds}"));
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command LatencyBench()
    {
        var children = new Option<int>("--children") { Description = "children drawn as random search draws them", DefaultValueFactory = _ => 20 };
        var repeats = new Option<int>("--repeats") { Description = "measurements of each child", DefaultValueFactory = _ => 10 };
        var filters = new Option<int>("--filters") { Description = "F of the search's network", DefaultValueFactory = _ => 8 };
        var batch = new Option<int>("--batch") { Description = "images per inference", DefaultValueFactory = _ => 1 };
        var device = new Option<string>("--device") { Description = "the device measured", DefaultValueFactory = _ => "cpu" };
        var seed = new Option<long>("--seed") { Description = "which children", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        var command = new Command("latency", "Children's inference latency as workers measure it: repeatability, cost of a measurement, the median (a bound refusing half)")
        {
            children, repeats, filters, batch, device, seed, json,
        };
        command.SetAction(parse => CommandErrors.Guard(() =>
        {
            if (parse.GetValue(children) < 1 || parse.GetValue(repeats) < 2 || parse.GetValue(batch) < 1)
                throw new InputException("--children and --batch must be at least 1, --repeats at least 2");
            var spec = new SearchSettings().Search with { Filters = parse.GetValue(filters) };
            Hosting.Preflight.Devices([parse.GetValue(device)!]);
            var quiet = parse.GetValue(json);
            var result = LatencyBenchmark.Run(spec, parse.GetValue(device)!, parse.GetValue(batch), parse.GetValue(children), parse.GetValue(repeats), parse.GetValue(seed),
                c => { if (!quiet) Console.Error.WriteLine($"child {c.ChildId}: {c.MedianMs:F3} ms (cv {c.Variation:P1}), {c.MeasureSeconds:F3} s a measurement, {c.MultAdds:N0} mult-adds"); });
            Output.Object(new
            {
                result.Device, result.Batch, result.Repeats, Children = result.Children.Count, result.MedianLatencyMs, result.MedianVariation, result.MaxVariation,
                result.MeanMeasureSeconds,
            }, quiet);
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command ClusterBench()
    {
        var children = new Option<int?>("--children") { Description = "children in the search (default: two minutes of children per worker, 6,000 for 500 workers of 10-s children)" };
        var workers = new Option<int>("--workers") { Description = "synthetic workers in all, shared by the two trainer nodes", DefaultValueFactory = _ => 500 };
        var delay = new Option<int>("--child-ms") { Description = "milliseconds each child takes", DefaultValueFactory = _ => 10000 };
        var (run, journal) = BenchRunOptions("bench-cluster");
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        var earlyStop = new Option<int?>("--early-stop-epochs")
        {
            Description = "children as learning curves of this many epochs (--child-ms in all), judged by ASHA (grace 1, eta 3)",
        };
        var command = new Command("cluster", "A seed and two trainer nodes as processes on this machine: idle share, overhead per child, journal bytes")
        {
            children, workers, delay, run, journal, earlyStop, json,
        };
        command.SetAction((parse, cancel) => CommandErrors.GuardAsync(async () =>
        {
            if (parse.GetValue(children) is < 1) throw new InputException("--children", "must be at least 1");
            if (parse.GetValue(workers) < 2) throw new InputException("--workers", "must be at least 2 (one per trainer node)");
            if (parse.GetValue(delay) < 0) throw new InputException("--child-ms", "must be at least 0");
            // The whole run's idle share weighs the cluster's start (about a second) and the tail against
            // the run: two minutes of children per worker by default.
            var searched = parse.GetValue(children) ?? parse.GetValue(workers) * (parse.GetValue(delay) > 0 ? (int)Math.Ceiling(120_000.0 / parse.GetValue(delay)) : 1);
            if (parse.GetValue(earlyStop) is < 2) throw new InputException("--early-stop-epochs", "must be at least 2 (a rung below the last epoch)");
            await OnNewRun(parse, run, journal, "bench-cluster", async store =>
                Output.Object(await ClusterBenchmark.RunAsync(store, RunOption.Arguments(store), searched, parse.GetValue(workers), parse.GetValue(delay), cancel,
                    parse.GetValue(earlyStop)), parse.GetValue(json)));
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command SearchBench()
    {
        var children = new Option<int>("--children") { Description = "children in the search", DefaultValueFactory = _ => 20000 };
        var workers = new Option<int>("--workers") { Description = "synthetic workers in this process", DefaultValueFactory = _ => 8 };
        var strategy = new Option<string>("--strategy") { Description = "ppo, random or evolution", DefaultValueFactory = _ => "ppo" };
        strategy.AcceptOnlyFromAmong([.. StrategyCatalog.Names]);
        var (run, journal) = BenchRunOptions("bench");
        var delay = new Option<int>("--child-ms") { Description = "milliseconds each synthetic child takes (0: instant)", DefaultValueFactory = _ => 0 };
        var snapshotEvery = new Option<int>("--snapshot-every") { Description = "events between snapshots", DefaultValueFactory = _ => new SearchSettings().SnapshotEvery };
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        var command = new Command("search", "The control plane alone: a search with the instant synthetic trainer, then its recovery") { children, workers, strategy, run, journal, delay, snapshotEvery, json };
        command.SetAction((parse, cancel) => CommandErrors.GuardAsync(async () =>
        {
            await OnNewRun(parse, run, journal, "bench", async store =>
            {
                var settings = SearchSettings.NewSearch with
                {
                    Strategy = parse.GetValue(strategy)!, Budget = parse.GetValue(children),
                    Trainer = parse.GetValue(delay) > 0 ? $"synthetic:{parse.GetValue(delay)}" : "synthetic",
                    WorkersPerDevice = parse.GetValue(workers), TopK = 0, SnapshotEvery = parse.GetValue(snapshotEvery),
                };
                var errors = settings.Errors(StrategyCatalog.Names);
                if (errors.Count > 0) throw new InputException(string.Join("; ", errors));
                using var claim = store.ClaimForWriting();
                Output.Object(await SearchBenchmark.RunAsync(store, settings, cancel), parse.GetValue(json));
            });
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>A benchmark's <c>--run</c> and <c>--journal</c>: a new run, in a temporary folder by default.</summary>
    private static (Option<string?> Run, Option<string?> Journal) BenchRunOptions(string prefix) => (
        new("--run") { Description = $"run folder (default: a temporary one, removed after); with --journal, the run's name (default {prefix}-TIME; it stays in the database)" },
        new("--journal") { Description = "PostgreSQL database to run it in, postgresql://USER@HOST[:PORT]/DATABASE (default: SQLite in a folder)" });

    /// <summary>Runs <paramref name="benchmark"/> on a new run named by the options; a temporary folder is removed after.</summary>
    private static async Task OnNewRun(ParseResult parse, Option<string?> run, Option<string?> journal, string prefix, Func<RunStore, Task> benchmark)
    {
        var database = parse.GetValue(journal);
        var temp = parse.GetValue(run) is null && database is null;
        var name = parse.GetValue(run) ?? (database is null ? Path.Combine(Path.GetTempPath(), $"nas-bench-{Guid.NewGuid():N}") : $"{prefix}-{DateTimeOffset.UtcNow:yyyyMMdd-HHmmss}");
        var store = RunStore.Open(name, database);
        if (store.SettingsBeforeWriting() is not null) throw new InputException("--run", $"{store.Name} already holds a run; the benchmark needs a new one");
        try
        {
            await benchmark(store);
        }
        finally
        {
            if (temp && Directory.Exists(name)) Directory.Delete(name, recursive: true);
        }
    }

    private static Command ControllerBench()
    {
        var children = new Option<int>("--children") { Description = "children in the simulated search", DefaultValueFactory = _ => 20000 };
        var strategy = new Option<string>("--strategy") { Description = "ppo, random or evolution", DefaultValueFactory = _ => "ppo" };
        strategy.AcceptOnlyFromAmong([.. StrategyCatalog.Names]);
        var inFlight = new Option<int>("--in-flight") { Description = "children outstanding at a time (workers)", DefaultValueFactory = _ => 20 };
        var seed = new Option<long>("--seed") { Description = "strategy seed", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        var objective = new Option<string>("--objective")
        {
            Description = $"rewards: synthetic (the synthetic trainer's), or to measure learning {string.Join(", ", Objectives.ByName.Keys)} (best 1)",
            DefaultValueFactory = _ => "synthetic",
        };
        objective.AcceptOnlyFromAmong(["synthetic", .. Objectives.ByName.Keys]);
        var ppoEpochs = new Option<int?>("--ppo-epochs") { Description = "PPO optimisation passes per minibatch (default: a new search's; the paper's: 1)" };
        var ppoNormalize = new Option<bool?>("--ppo-normalize") { Description = "PPO advantages normalised per minibatch (default: a new search's; the paper's: false)" };
        var ppoLr = new Option<double?>("--ppo-lr") { Description = "PPO learning rate (default: a new search's; the paper's: 0.00035)" };
        var command = new Command("controller", "The controller's cost per child and how fast it learns (rewards from the genotype alone)")
        {
            children, strategy, inFlight, seed, objective, ppoEpochs, ppoNormalize, ppoLr, json,
        };
        command.SetAction(parse => CommandErrors.Guard(() =>
        {
            if (parse.GetValue(children) < 1) throw new InputException("--children", "must be at least 1");
            if (parse.GetValue(inFlight) < 1) throw new InputException("--in-flight", "must be at least 1");
            var config = StrategyCatalog.ConfigFor(SearchSettings.NewSearch with { Strategy = parse.GetValue(strategy)!, Seed = parse.GetValue(seed) });
            config = config with
            {
                Ppo = config.Ppo with
                {
                    Epochs = parse.GetValue(ppoEpochs) ?? config.Ppo.Epochs,
                    NormalizeAdvantages = parse.GetValue(ppoNormalize) ?? config.Ppo.NormalizeAdvantages,
                    LearningRate = parse.GetValue(ppoLr) ?? config.Ppo.LearningRate,
                },
            };
            var rewards = parse.GetValue(objective) is { } o && Objectives.ByName.TryGetValue(o, out var f) ? f : g => SyntheticObjective.Accuracy(g);
            var r = ControllerBenchmark.Run(config, parse.GetValue(children), parse.GetValue(inFlight), rewards);
            Output.Object(r, parse.GetValue(json));
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command TrainBench()
    {
        var genotype = new Option<string>("--genotype", "-g") { Description = GenotypeSource.Help, DefaultValueFactory = _ => "nasnet-a" };
        var configs = new Option<string>("--configs") { Description = "networks to time, as NxF pairs", DefaultValueFactory = _ => "1x8,2x8,1x16,2x16" };
        var dataset = new Option<string>("--dataset", "-d") { Description = DatasetSpec.Help, DefaultValueFactory = _ => DatasetSpec.Default };
        var batch = new Option<int>("--batch", "-b") { Description = "batch size", DefaultValueFactory = _ => 64 };
        var steps = new Option<int>("--steps") { Description = "timed SGD steps per network (after 2 warm-up steps)", DefaultValueFactory = _ => 10 };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N", DefaultValueFactory = _ => "cpu" };
        var image = new Option<int?>("--image") { Description = "time on random 3-channel images of this size and 1000 classes instead of --dataset (speed only)" };
        var stemFilters = new Option<int?>("--stem-filters") { Description = "stem conv filters (default 3F for small images, 32 for ImageNet-sized)" };
        var json = new Option<bool>("--json") { Description = "print a JSON array" };
        var kernels = new Option<string>("--kernels")
        {
            Description = "convolution path: auto (what the device's check chose) or nchw, nhwc, unfold for every convolution (for timing; refused where it computes wrong)",
            DefaultValueFactory = _ => "auto",
        };
        var command = new Command("train", "Training images/s of child networks for several (N, F)") { genotype, configs, dataset, image, stemFilters, batch, steps, device, kernels, json };
        var speed = new SpeedOptions();
        speed.AddTo(command);
        command.SetAction(parse => CommandErrors.Guard(() =>
        {
            var torchDevice = TorchRuntime.ParseDevice(parse.GetValue(device)!);
            var size = parse.GetValue(image);
            if (size is < 8 or > 1024) throw new InputException("--image", $"expected 8 to 1024 pixels, got {size}");
            var data = size is { } px ? RandomImages(px, parse.GetValue(batch)) : DatasetSpec.Parse(parse.GetValue(dataset)!).Load().Train;
            var options = speed.Apply(parse, new TrainingConfig());
            var path = parse.GetValue(kernels) switch
            {
                "auto" => (ConvPath?)null,
                var k when Enum.TryParse<ConvPath>(k, true, out var p) && !int.TryParse(k, out _) => p,
                var k => throw new InputException("--kernels", $"expected auto, nchw, nhwc or unfold, got \"{k}\""),
            };
            var forced = path is { } fp ? new KernelPlan(options.ChannelsLast, fp, fp, fp) : null;
            // A path that computes wrong here is refused, not timed: on some CPUs it also corrupts memory.
            if (forced is not null && DeviceKernels.Verify(forced, torchDevice, options.Precision) is { } wrong)
                throw new DeviceFaultException($"--kernels {parse.GetValue(kernels)}: {torchDevice}: {wrong.Case.Family} computes wrong on that path at {wrong.Case} ({wrong.Wrong}); time another path");
            var g = GenotypeSource.Load(parse.GetValue(genotype)!);
            var results = new List<Throughput.Measurement>();
            foreach (var pair in parse.GetValue(configs)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var parts = pair.Split('x');
                if (parts.Length != 2 || !int.TryParse(parts[0], out var n) || !int.TryParse(parts[1], out var f))
                    throw new InputException("--configs", $"\"{pair}\" is not NxF (e.g. 2x16)");
                var plan = NetworkPlan.Create(new NetworkConfig(g, n, f, data.Classes, data.Channels, data.Height, NetworkConfig.StemFor(data.Height), parse.GetValue(stemFilters)));
                var m = Throughput.Measure(plan, data, torchDevice, parse.GetValue(batch), parse.GetValue(steps), options: options, kernels: forced);
                results.Add(m);
                if (!parse.GetValue(json))
                    Console.Error.WriteLine($"{n}@{m.PenultimateFilters}: {m.ImagesPerSecond:F1} images/s");
            }
            Output.Rows(results, parse.GetValue(json),
                ("network", m => $"{m.Cells}@{m.PenultimateFilters}"), ("N", m => $"{m.Cells}"), ("F", m => $"{m.Filters}"), ("parameters", m => $"{m.Parameters:N0}"),
                ("mult-adds", m => $"{m.MultAdds / 1e6:F1}M"), ("batch", m => $"{m.Batch}"), ("precision", m => m.Precision), ("images/s", m => $"{m.ImagesPerSecond:F1}"));
            return ExitCodes.Ok;
        }));
        return command;
    }

    private sealed record DatasetLoad(string Dataset, int Images, int Classes, int Image, long CacheBytes, double? DecodeSeconds, double? DecodeImagesPerS,
        double OpenSeconds, int StreamImages, int Batch, string Augment, double StreamSeconds, double StreamImagesPerS, double PeakAnonMb, double DecodePeakAnonMb);

    /// <summary>
    /// An image folder as training reads it: building (or reusing) its cache, opening it, then one
    /// epoch of training batches streamed as a search streams a large split (read ahead, augmented,
    /// normalised; no network), with the process's peak anonymous memory (not the page cache).
    /// </summary>
    private static Command DatasetBench()
    {
        var dataset = new Option<string>("--dataset", "-d") { Description = "folder:DIR", Required = true };
        var image = new Option<int>("--image") { Description = "image size decoded to", DefaultValueFactory = _ => ImageFolderReader.DefaultImageSize };
        var batch = new Option<int>("--batch", "-b") { Description = "training batch size", DefaultValueFactory = _ => 64 };
        var augment = new Option<string?>("--augment") { Description = Augmentation.Help };
        var fresh = new Option<bool>("--fresh") { Description = "decode into a cache of its own, deleted after (the decode is always timed); default: the machine's cache, built if missing" };
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        var command = new Command("dataset", "Decode and stream rates of an image folder, and the memory streaming holds") { dataset, image, batch, augment, fresh, json };
        command.SetAction(parse => CommandErrors.Guard(() =>
        {
            var spec = DatasetSpec.Parse(parse.GetValue(dataset)!);
            if (spec.Kind != "folder") throw new InputException("--dataset", "give folder:DIR (other datasets are read, not decoded)");
            if (parse.GetValue(batch) < 1) throw new InputException("--batch", $"must be at least 1, got {parse.GetValue(batch)}");
            var kind = Augmentation.Parse(parse.GetValue(augment));
            var size = parse.GetValue(image);
            NetworkConfig.CheckImageSize(size);
            var cacheBefore = Environment.GetEnvironmentVariable(ImageFolderReader.CacheVariable);
            var privateCache = parse.GetValue(fresh) ? Path.Combine(Path.GetTempPath(), $"nas-bench-cache-{Environment.ProcessId}") : null;
            if (privateCache is not null) Environment.SetEnvironmentVariable(ImageFolderReader.CacheVariable, privateCache);
            using var memory = new AnonymousMemory();
            try
            {
                // Decoded: a cache file that was not there, or was rewritten (a damaged one is decoded again).
                var filesBefore = Directory.Exists(ImageFolderReader.CacheDirectory)
                    ? Directory.GetFiles(ImageFolderReader.CacheDirectory, "*.nasimg").ToDictionary(f => f, File.GetLastWriteTimeUtc)
                    : [];
                var clock = System.Diagnostics.Stopwatch.StartNew();
                var pair = spec.Load(size);
                var first = clock.Elapsed.TotalSeconds;
                var cacheFile = (pair.Train.Records as FileRecords)?.Path;
                var decoded = cacheFile is not null && (!filesBefore.TryGetValue(cacheFile, out var before) || File.GetLastWriteTimeUtc(cacheFile) != before);
                var decodePeak = memory.Peak;
                // What another process pays to open it: the whole file hashed (this one reuses what it wrote).
                clock.Restart();
                if (cacheFile is not null && !ImageCache.Intact(cacheFile)) throw new InvalidOperationException($"{cacheFile} does not check out just after it was read");
                var open = clock.Elapsed.TotalSeconds;
                var images = pair.Train.Count + pair.Test.Count;

                // One epoch of the training split as a search cuts it (validation held out), streamed whatever its size.
                var splits = DataSplits.Create(pair, DataSplits.DefaultValidationSize(pair.Train.Count), null, seed: 0);
                var (mean, std) = splits.Train.ChannelStatistics();
                var augmentation = Augmentation.For(kind, splits, 0);
                memory.Reset();
                clock.Restart();
                var seen = 0;
                foreach (var (x, y) in new Batches(splits.Train, mean, std, streamed: true).Epoch(parse.GetValue(batch), TorchSharp.torch.CPU, new Random(0), augmentation))
                {
                    seen += (int)y.shape[0];
                    x.Dispose();
                    y.Dispose();
                }
                var stream = clock.Elapsed.TotalSeconds;
                var kindName = Augmentation.Name(kind) ?? $"auto ({(augmentation.ResizedCrop ? "imagenet" : augmentation.CropPadding > 0 ? "cifar" : "none")})";
                Output.Object(new DatasetLoad(spec.ToString(), images, pair.Train.Classes, size, cacheFile is null ? 0 : new FileInfo(cacheFile).Length,
                    decoded ? Math.Round(first, 2) : null, decoded ? Math.Round(images / first) : null, Math.Round(open, 2), seen, parse.GetValue(batch), kindName,
                    Math.Round(stream, 2), Math.Round(seen / stream), memory.Peak, decodePeak), parse.GetValue(json));
                if (!decoded && cacheFile is not null && !parse.GetValue(json))
                    Console.Error.WriteLine($"nas: the cache was there already ({cacheFile}): decode not timed (--fresh times it)");
            }
            finally
            {
                Environment.SetEnvironmentVariable(ImageFolderReader.CacheVariable, cacheBefore);
                if (privateCache is not null && Directory.Exists(privateCache)) Directory.Delete(privateCache, recursive: true);
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>The peak of this process's anonymous resident memory (RssAnon: its own pages, not the page cache), sampled every 20 ms.</summary>
    private sealed class AnonymousMemory : IDisposable
    {
        private readonly Timer timer;
        private long peakKb;

        public AnonymousMemory()
        {
            timer = new Timer(_ => Sample(), null, 0, 20);
        }

        /// <summary>The peak since the start or the last <see cref="Reset"/>, in MiB.</summary>
        public double Peak
        {
            get
            {
                Sample();
                return Math.Round(Interlocked.Read(ref peakKb) / 1024.0, 1);
            }
        }

        public void Reset() => Interlocked.Exchange(ref peakKb, 0);

        private void Sample()
        {
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("RssAnon:", StringComparison.Ordinal));
            if (line is null || !long.TryParse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], out var kb)) return;
            long seen;
            while ((seen = Interlocked.Read(ref peakKb)) < kb && Interlocked.CompareExchange(ref peakKb, kb, seen) != seen) { }
        }

        public void Dispose() => timer.Dispose();
    }

    /// <summary>Four batches of seeded random images: what a speed measurement at a size without a dataset needs.</summary>
    private static ImageDataset RandomImages(int size, int batch)
    {
        var count = 4 * batch;
        var pixels = new byte[(long)count * 3 * size * size];
        var rng = new Random(0);
        rng.NextBytes(pixels);
        var labels = Enumerable.Range(0, count).Select(_ => (ushort)rng.Next(1000)).ToArray();
        return new ImageDataset($"random-{size}px", 3, size, size, 1000, pixels, labels);
    }
}
