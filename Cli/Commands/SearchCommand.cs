using System.CommandLine;
using System.Diagnostics;
using NasActors.Training.Data;
using NasActors.Controller.Coordinator;
using NasActors.Controller.Strategies;
using NasActors.Hosting;
using NasActors.Protocol;
using NasActors.Protocol.Messages;
using NasActors.Reports.Dashboard;
using NasActors.Persistence;
using NasActors.Search;
using NasActors.SearchSpace;
using Spectre.Console;

namespace NasActors.Cli.Commands;

/// <summary>
/// <c>nas search</c>: runs a search with every role in this process, or resumes the one in
/// <c>--run DIR</c>. With no options: a small real search on the bundled Fashion-MNIST on CPU.
/// </summary>
public static class SearchCommand
{
    public static Command Create()
    {
        var run = new Option<string>("--run") { Description = "run folder (created, or resumed when it holds a run); with --journal, the run's name", DefaultValueFactory = _ => "runs/demo" };
        var journal = new Option<string?>("--journal") { Description = RunOption.JournalHelp };
        var config = new Option<string?>("--config") { Description = "search settings JSON file (keys as in run.json; unknown keys are errors)" };
        var strategy = new Option<string?>("--strategy") { Description = "ppo, random or evolution (default ppo)" };
        strategy.AcceptOnlyFromAmong([.. StrategyCatalog.Names]);
        var space = new Option<string?>("--space") { Description = $"search space: {string.Join(", ", SearchSpaces.Names)} (default {SearchSpaces.DefaultName})" };
        space.AcceptOnlyFromAmong([.. SearchSpaces.Names]);
        var blocks = new Option<int?>("--blocks") { Description = "blocks per cell, B (default the space's: 5 for nasnet, 4 for darts)" };
        var children = new Option<int?>("--children") { Description = "child budget (may grow on resume)" };
        var trainer = new Option<string?>("--trainer") { Description = $"{TrainerSpec.Help} (default torch)" };
        var devices = new Option<string?>("--devices") { Description = "comma-separated devices: cpu, cuda:0, ... (default cpu)" };
        var perDevice = new Option<int?>("--workers-per-device") { Description = "workers per device (default 1)" };
        var dataset = new Option<string?>("--dataset") { Description = DatasetSpec.Help };
        var image = new Option<int?>("--image") { Description = "image size the networks take, for folder: datasets (default 32)" };
        var augment = new Option<string?>("--augment") { Description = Augmentation.Help };
        augment.AcceptOnlyFromAmong([.. TrainingSpec.Augmentations]);
        var seed = new Option<long?>("--seed") { Description = "search seed" };
        var topK = new Option<int?>("--top-k") { Description = "children retrained with the final budget after the search (default 2)" };
        var json = new Option<bool>("--json") { Description = "print the final status as one JSON object" };
        var earlyStop = new Option<string?>("--early-stop") { Description = "stop poor children early: asha (asynchronous successive halving; default: every child trains its budget)" };
        var grace = new Option<int?>("--grace-epochs") { Description = "with --early-stop: epochs before the first rung (default 1)" };
        var reduction = new Option<int?>("--reduction-factor") { Description = "with --early-stop: eta; a rung keeps its top 1/eta, and rungs lie at grace·eta^k epochs (default 3)" };
        var brackets = new Option<int?>("--brackets") { Description = "with --early-stop: Hyperband-style brackets, bracket s starting at grace·eta^s epochs (default 1)" };
        var objectives = new Option<string?>("--objectives") { Description = $"comma-separated: accuracy and the costs searched against ({string.Join(", ", ChildCosts.Names)}; default accuracy alone)" };
        var maxParams = new Option<string?>("--max-params") { Description = "refuse (untrained) children with more parameters than this, e.g. 5e6" };
        var maxMultAdds = new Option<string?>("--max-mult-adds") { Description = "refuse (untrained) children with more mult-adds per image than this, e.g. 6e8" };
        var maxLatency = new Option<string?>("--max-latency-ms") { Description = "refuse (untrained) children slower than this in inference on their worker's device" };
        var latencyBatch = new Option<int?>("--latency-batch") { Description = "images per inference when latency is measured (default 1)" };
        var dashboard = new Option<int?>("--dashboard")
        {
            Description = $"serve the live dashboard beside the search on this port (default {DashboardCommand.DefaultPort})",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var dashboardHost = new Option<string>("--dashboard-host") { Description = "address the dashboard listens on (default 127.0.0.1: this machine only)", DefaultValueFactory = _ => "127.0.0.1" };
        var command = new Command("search", "Run (or resume) a search with every role in this process")
        {
            run, journal, config, strategy, space, blocks, children, trainer, devices, perDevice, dataset, image, augment, seed, topK, json, dashboard, dashboardHost,
            earlyStop, grace, reduction, brackets, objectives, maxParams, maxMultAdds, maxLatency, latencyBatch,
        };
        var searchSizing = new SizingOptions(final: false);
        searchSizing.AddTo(command);
        var finalSizing = new SizingOptions(final: true);
        finalSizing.AddTo(command);
        var speed = new SpeedOptions();
        speed.AddTo(command);
        var cluster = new ClusterOptions(joinRequired: false);
        cluster.AddTo(command, defaultRoles: "all three");
        command.SetAction((parse, cancel) => CommandErrors.GuardAsync(async () =>
        {
            var store = RunStore.Open(parse.GetValue(run), parse.GetValue(journal));
            var clusterSpec = cluster.Parse(parse, ClusterSpec.AllRoles);
            if (parse.GetResult(dashboardHost) is { Implicit: false } && parse.GetResult(dashboard) is null)
                throw new InputException("--dashboard-host", "needs --dashboard");
            clusterSpec.RequireFreePort();
            NodeConfig.Validate(clusterSpec);
            SearchLauncher.RequireRoles(clusterSpec);
            var datasetGiven = parse.GetValue(dataset) is not null;
            using var launch = SearchLauncher.Prepare(store, clusterSpec, parse.GetValue(config), settings =>
            {
                if (parse.GetValue(strategy) is { } s) settings = settings with { Strategy = s };
                if (parse.GetValue(space) is { } sp) settings = settings with { Space = sp };
                if (parse.GetValue(blocks) is { } b) settings = settings with { Blocks = b };
                if (parse.GetValue(children) is { } c) settings = settings with { Budget = c };
                if (parse.GetValue(trainer) is { } t) settings = settings with { Trainer = t };
                if (parse.GetValue(devices) is { } d) settings = settings with { Devices = d.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) };
                if (parse.GetValue(perDevice) is { } w) settings = settings with { WorkersPerDevice = w };
                // Options about training apply to search and final training alike.
                SearchSettings Both(Func<TrainingSpec, TrainingSpec> change) => settings with { Search = change(settings.Search), Final = change(settings.Final) };
                if (parse.GetValue(dataset) is { } ds) settings = Both(t => t with { Dataset = ds });
                if (parse.GetValue(image) is { } px) settings = Both(t => t with { Image = px });
                if (parse.GetValue(augment) is { } au) settings = Both(t => t with { Augment = au });
                if (parse.GetValue(seed) is { } sd) settings = settings with { Seed = sd };
                if (parse.GetValue(topK) is { } k) settings = settings with { TopK = k };
                // Each speed option given overrides the settings.
                if (parse.GetValue(speed.Precision) is { } precision) settings = Both(t => t with { Precision = precision });
                if (parse.GetValue(speed.ChannelsLast)) settings = Both(t => t with { ChannelsLast = true });
                if (parse.GetValue(speed.CudnnBenchmark)) settings = Both(t => t with { CudnnBenchmark = true });
                settings = EarlyStopOptions(parse, settings, earlyStop, grace, reduction, brackets);
                settings = ObjectiveOptions(parse, settings, objectives, latencyBatch,
                    [(maxParams, ChildCosts.ParamsName), (maxMultAdds, ChildCosts.MultAddsName), (maxLatency, ChildCosts.LatencyName)]);
                return settings with { Search = searchSizing.Apply(parse, settings.Search), Final = finalSizing.Apply(parse, settings.Final) };
            }, datasetGiven);
            var settings = launch.Settings;
            // The dashboard listens first: a port in use stops the command before anything is written.
            await using var server = parse.GetResult(dashboard) is null ? null
                : await DashboardServer.StartAsync([store], DashboardCommand.Listen(parse, dashboardHost, dashboard),
                    Math.Max(10, settings.TopK), launch.ProgressAsync, cancel);
            if (server is not null) DashboardCommand.Announce(server);
            if (clusterSpec.Seeds.Count > 0)
                Console.Error.WriteLine($"nas search: joining {string.Join(", ", clusterSpec.Seeds)} as {string.Join(",", clusterSpec.Roles)} (this node: {clusterSpec.Host}:{clusterSpec.Port}) ...");
            var (end, status) = await Watch(launch, parse.GetValue(json), cancel);
            switch (end)
            {
                case SearchEnd.Interrupted:
                    Console.Error.WriteLine($"nas: stopped; resume with: ./nas search {RunOption.Options(store)}{(store.Shared ? " (a standby coordinator, if one is up, carries on now)" : "")}");
                    return ExitCodes.Interrupted;
                case SearchEnd.OtherRun:
                    return ExitCodes.Fail(ExitCodes.Invalid,
                        $"--join: that cluster's coordinator writes another run ({status!.Run}), not {store.Name}; a cluster serves one run at a time: stop its coordinator nodes, or give this search a cluster of its own");
                case SearchEnd.Removed:
                    return ExitCodes.Fail(ExitCodes.Unreadable,
                        $"the cluster removed this node (cut off from it for longer than the split-brain resolver waits); it stopped writing {store.Name}: a standby coordinator carries on, or resume with ./nas search {RunOption.Options(store)} ...");
            }
            var state = store.ReadState();
            if (parse.GetValue(json))
            {
                Output.Object(SearchViews.Summary(state, DateTimeOffset.UtcNow), json: true);
            }
            else
            {
                TopCommand.Render(store, state, Math.Max(settings.TopK, 5), json: false);
                Console.Error.WriteLine($"search complete: {status?.Completed} trained, {status?.Failed} failed{(status?.Stopped > 0 ? $", {status.Stopped} stopped early" : "")}{(status?.Refused > 0 ? $", {status.Refused} refused over the bounds" : "")}; see ./nas top {RunOption.Options(store)}{(state.Objectives is null ? "" : " --pareto")}");
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>--early-stop and the options that tune it (over what a settings file said); the values are checked with the settings.</summary>
    private static SearchSettings EarlyStopOptions(ParseResult parse, SearchSettings settings, Option<string?> kind, Option<int?> grace, Option<int?> reduction, Option<int?> brackets)
    {
        if (parse.GetValue(kind) is { } k)
        {
            if (!StoppingRules.Kinds.Contains(k)) throw new InputException("--early-stop", $"must be {string.Join(" or ", StoppingRules.Kinds)}, got \"{k}\"");
            settings = settings with { EarlyStop = settings.EarlyStop ?? new EarlyStopSettings() };
        }
        foreach (var option in new[] { grace, reduction, brackets })
            if (parse.GetResult(option) is not null && settings.EarlyStop is null)
                throw new InputException(option.Name, "needs --early-stop asha (or early_stop in the settings file)");
        if (settings.EarlyStop is not { } stop) return settings;
        return settings with
        {
            EarlyStop = stop with
            {
                GraceEpochs = parse.GetValue(grace) ?? stop.GraceEpochs,
                ReductionFactor = parse.GetValue(reduction) ?? stop.ReductionFactor,
                Brackets = parse.GetValue(brackets) ?? stop.Brackets,
            },
        };
    }

    /// <summary>--objectives, the bounds and --latency-batch (over what a settings file said); their meaning is checked with the settings.</summary>
    private static SearchSettings ObjectiveOptions(ParseResult parse, SearchSettings settings, Option<string?> objectives, Option<int?> latencyBatch,
        IReadOnlyList<(Option<string?> Option, string Cost)> bounds)
    {
        if (parse.GetValue(objectives) is { } list)
            settings = settings with { Objectives = list.Split(',', StringSplitOptions.TrimEntries) };
        foreach (var (option, cost) in bounds)
        {
            if (parse.GetValue(option) is not { } text) continue;
            if (!double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var bound) || !double.IsFinite(bound) || bound <= 0)
                throw new InputException(option.Name, $"must be a positive number, got \"{text}\"");
            settings = settings with { Constraints = new Dictionary<string, double>(settings.Constraints ?? new Dictionary<string, double>()) { [cost] = bound } };
        }
        if (parse.GetValue(latencyBatch) is { } batch) settings = settings with { LatencyBatch = batch };
        return settings;
    }

    /// <summary>Runs the search, showing its progress live on a terminal (one line of news otherwise).</summary>
    private static async Task<SearchOutcome> Watch(SearchLauncher launch, bool quiet, CancellationToken cancel)
    {
        SearchStatus? status = null;
        string? idle = null;
        if (quiet || Console.IsErrorRedirected)
            return await launch.RunAsync(_ => { }, line => Console.Error.WriteLine($"nas search: {line}"), cancel);
        var settings = launch.Settings;
        var clock = Stopwatch.StartNew();
        int? firstDone = null;
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        var table = new Table().HideHeaders().AddColumns("", "");
        SearchOutcome? outcome = null;
        await console.Live(table).StartAsync(async ctx =>
        {
            var run = launch.RunAsync(s => status = s, line => idle = line, cancel);
            while (!run.IsCompleted)
            {
                if (status is { } s)
                {
                    firstDone ??= s.Completed + s.Failed + s.Stopped;
                    var done = s.Completed + s.Failed + s.Stopped;
                    var rate = (done - firstDone.Value) / Math.Max(clock.Elapsed.TotalMinutes, 1e-9);
                    var eta = rate > 0 ? TimeSpan.FromMinutes((s.Budget - done) / rate).ToString(@"hh\:mm\:ss") : "-";
                    table.Rows.Clear();
                    table.AddRow("children", $"{done}/{s.Budget} ({s.Completed} trained, {s.Failed} failed{(s.Stopped > 0 ? $", {s.Stopped} stopped early" : "")}), {s.Sampled} sampled{(s.Refused > 0 ? $", {s.Refused} refused over the bounds" : "")}");
                    table.AddRow("best accuracy", s.BestAccuracy is { } b ? $"{b:P2}" : "-");
                    table.AddRow("policy", $"{settings.Strategy}, version {s.PolicyVersion}");
                    table.AddRow("rate", $"{rate:F1} children/min, ETA {eta}");
                    table.AddRow("final training", s.SearchCompleted ? $"{s.FinalCompleted}/{s.FinalQueued} of the top {settings.TopK}" : "after the search");
                    if (idle is not null && s.RunningChildren.Count == 0) table.AddRow("waiting", Markup.Escape(idle));
                    foreach (var r in s.RunningChildren)
                        table.AddRow(Markup.Escape(r.WorkerId), $"child {r.ChildId}{(r.Final ? " (final)" : "")}, {(r.Epochs > 0 ? $"epoch {r.Epoch}/{r.Epochs}" : "training")}");
                    ctx.Refresh();
                }
                await Task.WhenAny(run, Task.Delay(500));
            }
            outcome = await run;
        });
        return outcome!;
    }
}
