using System.CommandLine;
using System.Diagnostics;
using NasActors.ChildTrainer;
using NasActors.ChildTrainer.Data;
using NasActors.ChildTrainer.Kernels;
using NasActors.ChildTrainer.Workers;
using NasActors.Controller.Coordinator;
using NasActors.Controller.Strategies;
using NasActors.Hosting;
using NasActors.Protocol.Messages;
using NasActors.Reports.Dashboard;
using NasActors.Runs;
using NasActors.Search;
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
        strategy.AcceptOnlyFromAmong([.. StrategyConfig.Kinds]);
        var children = new Option<int?>("--children") { Description = "child budget (may grow on resume)" };
        var trainer = new Option<string?>("--trainer") { Description = "torch, synthetic[:MS] or exec:COMMAND (default torch)" };
        var devices = new Option<string?>("--devices") { Description = "comma-separated devices: cpu, cuda:0, ... (default cpu)" };
        var perDevice = new Option<int?>("--workers-per-device") { Description = "workers per device (default 1)" };
        var dataset = new Option<string?>("--dataset") { Description = DatasetSpec.Help };
        var seed = new Option<long?>("--seed") { Description = "search seed" };
        var topK = new Option<int?>("--top-k") { Description = "children retrained with the final budget after the search (default 2)" };
        var childTimeout = new Option<int?>("--child-timeout") { Description = "seconds a child (search or final training) may take before it fails" };
        var json = new Option<bool>("--json") { Description = "print the final status as one JSON object" };
        var dashboard = new Option<int?>("--dashboard")
        {
            Description = $"serve the live dashboard beside the search on this port (default {DashboardCommand.DefaultPort})",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var dashboardHost = new Option<string>("--dashboard-host") { Description = "address the dashboard listens on (default 127.0.0.1: this machine only)", DefaultValueFactory = _ => "127.0.0.1" };
        var command = new Command("search", "Run (or resume) a search with every role in this process")
        {
            run, journal, config, strategy, children, trainer, devices, perDevice, dataset, seed, topK, childTimeout, json, dashboard, dashboardHost,
        };
        var speed = new SpeedOptions();
        speed.AddTo(command);
        var cluster = new ClusterOptions(joinRequired: false);
        cluster.AddTo(command, defaultRoles: "all three");
        command.SetAction((parse, cancel) => CommandErrors.GuardAsync(async () =>
        {
            var store = RunStore.Open(parse.GetValue(run), parse.GetValue(journal));
            var clusterSpec = cluster.Parse(parse, ClusterSpec.AllRoles);
            if (parse.GetResult(dashboardHost) is { Implicit: false } && parse.GetResult(dashboard) is null)
                throw new ArgumentException("--dashboard-host: needs --dashboard");
            clusterSpec.RequireFreePort();
            NodeConfig.Validate(clusterSpec);
            if (!clusterSpec.Has(ClusterSpec.Coordinator) || !clusterSpec.Has(ClusterSpec.Evaluator))
                throw new ArgumentException("--roles: nas search runs the coordinator and the evaluator (add trainer to train here too; trainer nodes join with nas node)");
            // Without the trainer role only trainer nodes train, and they can only reach a seed at a known address.
            if (!clusterSpec.Has(ClusterSpec.Trainer) && clusterSpec.Seeds.Count == 0)
                throw new ArgumentException("--roles: without trainer, this search trains nothing itself: give --port and --join (its own HOST:PORT first) so that nas node can join it");
            // First of all: one writer per run, also when two searches start together on a new one.
            using var claim = store.ClaimForWriting();
            var existing = store.Existing();
            var configFile = parse.GetValue(config);
            var settings = configFile is not null ? RunFolder.ReadSettings(configFile) : existing ?? new SearchSettings();
            // A settings file that is wrong by itself is named, before options are layered over it.
            if ((configFile is not null || existing is not null) && settings.Errors() is { Count: > 0 } wrong)
                throw new RunFolderException($"{configFile ?? store.SettingsName}: {string.Join("; ", wrong)}");
            if (parse.GetValue(strategy) is { } s) settings = settings with { Strategy = s };
            if (parse.GetValue(children) is { } c) settings = settings with { Budget = c };
            if (parse.GetValue(trainer) is { } t) settings = settings with { Trainer = t };
            if (parse.GetValue(devices) is { } d) settings = settings with { Devices = d.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) };
            if (parse.GetValue(perDevice) is { } w) settings = settings with { WorkersPerDevice = w };
            // Options about training apply to search and final training alike.
            SearchSettings Both(Func<TrainingSpec, TrainingSpec> change) => settings with { Search = change(settings.Search), Final = change(settings.Final) };
            if (parse.GetValue(dataset) is { } ds) settings = Both(t => t with { Dataset = ds });
            if (parse.GetValue(seed) is { } sd) settings = settings with { Seed = sd };
            if (parse.GetValue(topK) is { } k) settings = settings with { TopK = k };
            // Each speed option given overrides the settings.
            if (parse.GetValue(speed.Precision) is { } precision) settings = Both(t => t with { Precision = precision });
            if (parse.GetValue(speed.ChannelsLast)) settings = Both(t => t with { ChannelsLast = true });
            if (parse.GetValue(speed.CudnnBenchmark)) settings = Both(t => t with { CudnnBenchmark = true });
            if (parse.GetValue(childTimeout) is { } ct)
            {
                if (ct < 1) throw new ArgumentException($"--child-timeout: must be at least 1 second, got {ct}");
                settings = Both(t => t with { TimeoutSeconds = ct });
            }

            var errors = settings.Errors();
            if (errors.Count > 0) throw new ArgumentException(string.Join("; ", errors));
            if (existing?.Incompatibility(settings) is { } why) throw new ArgumentException($"cannot resume {store.Name}: {why}");
            if (clusterSpec.Has(ClusterSpec.Trainer)) Preflight(settings, datasetGiven: parse.GetValue(dataset) is not null);
            if (existing is not null) CheckBeforeResume(store, settings);
            // The dashboard listens first: a port in use stops the command before anything is written.
            SearchNode? started = null;
            await using var server = parse.GetResult(dashboard) is null ? null
                : await DashboardServer.StartAsync([store], DashboardCommand.Listen(parse, dashboardHost, dashboard),
                    Math.Max(10, settings.TopK), () => Progress(started), cancel);
            if (server is not null) DashboardCommand.Announce(server);
            // Only a new run or a grown budget changes run.json; a resume that fails never touches it.
            if (existing is null || existing.Budget != settings.Budget) store.WriteSettings(settings);

            SearchStatus? status;
            if (clusterSpec.Seeds.Count > 0)
                Console.Error.WriteLine($"nas search: joining {string.Join(", ", clusterSpec.Seeds)} as {string.Join(",", clusterSpec.Roles)} (this node: {clusterSpec.Host}:{clusterSpec.Port}) ...");
            bool removed;
            await using (var node = await SearchNode.StartAsync(store, settings, cancel, cluster: clusterSpec))
            {
                started = node;
                status = await Watch(node, settings, store.Ids.CoordinatorId, parse.GetValue(json), cancel);
                started = null;
                removed = node.System.WhenTerminated.IsCompleted && !cancel.IsCancellationRequested;
            }
            store.AfterStop();
            if (cancel.IsCancellationRequested)
            {
                Console.Error.WriteLine($"nas: stopped; resume with: ./nas search {store.Options}{(store.Shared ? " (a standby coordinator, if one is up, carries on now)" : "")}");
                return ExitCodes.Interrupted;
            }
            // A cluster serves one run: joined to one whose coordinator writes another, this search did nothing.
            if (status is { } seen && seen.Run != store.Ids.CoordinatorId)
                return ExitCodes.Fail(ExitCodes.Invalid,
                    $"--join: that cluster's coordinator writes another run ({seen.Run}), not {store.Name}; a cluster serves one run at a time: stop its coordinator nodes, or give this search a cluster of its own");
            // Downed by the cluster (a partition, or too long unreachable): this node stopped writing;
            // the other side (a standby coordinator) carries on, or the run resumes from its journal.
            if (removed)
                return ExitCodes.Fail(ExitCodes.Unreadable,
                    $"the cluster removed this node (cut off from it for longer than the split-brain resolver waits); it stopped writing {store.Name}: a standby coordinator carries on, or resume with ./nas search {store.Options} ...");
            var state = store.ReadState();
            if (parse.GetValue(json))
            {
                Output.Object(SearchViews.Summary(state, DateTimeOffset.UtcNow), json: true);
            }
            else
            {
                TopCommand.Render(state, Math.Max(settings.TopK, 5), json: false);
                Console.Error.WriteLine($"search complete: {status?.Completed} trained, {status?.Failed} failed; see ./nas top {store.Options}");
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>The run's files, and the strategy state in its latest snapshot, must be readable before a resume writes.</summary>
    private static void CheckBeforeResume(RunStore store, SearchSettings settings)
    {
        var (state, snapshot) = store.CheckBeforeResume();
        // The journal, not run.json, is the record of how the run was started.
        if (state.Settings is { } stored && (stored with { Budget = state.Budget }).Incompatibility(settings) is { } why)
            throw new ArgumentException($"cannot resume {store.Name}: its journal disagrees with run.json and the options: {why}");
        if (snapshot is null) return;
        try
        {
            SearchCoordinator.DefaultStrategy(settings, snapshot.StrategyState).Dispose();
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or ArgumentException or IOException or System.Runtime.InteropServices.ExternalException)
        {
            throw new RunStoreException($"{store.SnapshotsName}: the {settings.Strategy} strategy's state in the latest snapshot is unreadable ({e.Message.Split('\n')[0]})");
        }
    }

    /// <summary>
    /// Fails fast, before any actor starts, on what would make every child fail: the trainer, each
    /// device (whatever the trainer: exec commands get it too) and the dataset where the trainer reads one.
    /// </summary>
    private static void Preflight(SearchSettings settings, bool datasetGiven)
    {
        var trainer = TrainerSpec.Parse(settings.Trainer);
        foreach (var device in settings.Devices)
        {
            try
            {
                TorchRuntime.ParseDevice(device);
            }
            catch (DeviceUnavailableException e)
            {
                throw new ArgumentException($"--devices: {e.Message}");
            }
            // A device whose kernels compute wrong on every path trains nothing here (DeviceFaultException, exit 1).
            if (trainer.Kind == TrainerKind.Torch) DeviceKernels.RequireRight(device);
        }
        if (trainer.Kind == TrainerKind.Synthetic)
        {
            if (datasetGiven) throw new ArgumentException("--dataset: the synthetic trainer reads no dataset; leave the option out");
            return;
        }
        foreach (var spec in new[] { settings.Search.Dataset, settings.Final.Dataset }.Distinct())
        {
            try
            {
                var parsed = DatasetSpec.Parse(spec);
                if (trainer.Kind == TrainerKind.Torch) parsed.Load();
                else parsed.RequireFiles();
            }
            catch (Exception e) when (e is ArgumentException or DatasetFormatException)
            {
                throw new ArgumentException($"--dataset: {e.Message} (expected {DatasetSpec.Help})");
            }
        }
    }

    private static async Task<IReadOnlyDictionary<long, (int Epoch, int Epochs)>> Progress(SearchNode? node) =>
        (node is null ? null : await node.StatusAsync())?.RunningChildren.Where(r => r.Epochs > 0).ToDictionary(r => r.ChildId, r => (r.Epoch, r.Epochs))
        ?? new Dictionary<long, (int, int)>();

    private static readonly TimeSpan NobodyTrains = TimeSpan.FromSeconds(30);

    private static async Task<SearchStatus?> Watch(SearchNode node, SearchSettings settings, string run, bool quiet, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        SearchStatus? status = null;
        int? firstDone = null;
        // A search whose children nobody trains (no trainer node has joined) says so, once, instead of waiting silently.
        var lastTraining = Stopwatch.StartNew();
        string? idle = null;
        async Task Poll()
        {
            while (!cancel.IsCancellationRequested && !node.System.WhenTerminated.IsCompleted)
            {
                status = await node.StatusAsync() ?? status;
                if (status?.Finished == true || (status is not null && status.Run != run)) return;
                if (status is { RunningChildren.Count: > 0 }) lastTraining.Restart();
                else if (idle is null && lastTraining.Elapsed > NobodyTrains)
                {
                    idle = $"no child has been in training for {NobodyTrains.TotalSeconds:F0} s: waiting for trainers (nas node --join this node)";
                    if (quiet || Console.IsErrorRedirected) Console.Error.WriteLine($"nas search: {idle}");
                }
                await Task.Delay(500, cancel).ContinueWith(_ => { });
            }
        }
        if (quiet || Console.IsErrorRedirected)
        {
            await Poll();
            return status;
        }
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        var table = new Table().HideHeaders().AddColumns("", "");
        await console.Live(table).StartAsync(async ctx =>
        {
            var poll = Poll();
            while (!poll.IsCompleted)
            {
                if (status is { } s)
                {
                    firstDone ??= s.Completed + s.Failed;
                    var done = s.Completed + s.Failed;
                    var rate = (done - firstDone.Value) / Math.Max(clock.Elapsed.TotalMinutes, 1e-9);
                    var eta = rate > 0 ? TimeSpan.FromMinutes((s.Budget - done) / rate).ToString(@"hh\:mm\:ss") : "-";
                    table.Rows.Clear();
                    table.AddRow("children", $"{done}/{s.Budget} ({s.Completed} trained, {s.Failed} failed), {s.Sampled} sampled");
                    table.AddRow("best accuracy", s.BestAccuracy is { } b ? $"{b:P2}" : "-");
                    table.AddRow("policy", $"{settings.Strategy}, version {s.PolicyVersion}");
                    table.AddRow("rate", $"{rate:F1} children/min, ETA {eta}");
                    table.AddRow("final training", s.SearchCompleted ? $"{s.FinalCompleted}/{s.FinalQueued} of the top {settings.TopK}" : "after the search");
                    if (idle is not null && s.RunningChildren.Count == 0) table.AddRow("waiting", Markup.Escape(idle));
                    foreach (var r in s.RunningChildren)
                        table.AddRow(Markup.Escape(r.WorkerId), $"child {r.ChildId}{(r.Final ? " (final)" : "")}, {(r.Epochs > 0 ? $"epoch {r.Epoch}/{r.Epochs}" : "training")}");
                    ctx.Refresh();
                }
                await Task.WhenAny(poll, Task.Delay(500));
            }
        });
        return status;
    }
}
