using System.CommandLine;
using NasActors.ChildTrainer;
using NasActors.Hosting;
using NasActors.Protocol.Messages;
using NasActors.Runs;
using NasActors.Search;

namespace NasActors.Cli.Commands;

/// <summary>
/// <c>nas node</c>: a long-lived trainer node for a machine (or a standby coordinator). Joins the cluster of a search, trains
/// what the coordinator hands out, waits while there is no work, and stops on Ctrl-C/SIGTERM by
/// leaving the cluster. When its cluster is gone (the search ended, or the cluster downed this
/// node) it starts afresh and joins again, so one node per machine serves search after search.
/// </summary>
public static class NodeCommand
{
    // A node that has seen no coordinator for this long starts afresh (a search that ended leaves
    // its trainer nodes alone in a cluster of their own; a new search at the seed starts another).
    private static readonly TimeSpan Orphaned = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan NotJoinedAfter = TimeSpan.FromSeconds(30);

    public static Command Create()
    {
        var cluster = new ClusterOptions(joinRequired: true);
        var devices = new Option<string>("--devices") { Description = "comma-separated devices: cpu, cuda:0, ... (default cpu)", DefaultValueFactory = _ => "cpu" };
        var perDevice = new Option<int>("--workers-per-device") { Description = "workers per device (default 1)", DefaultValueFactory = _ => 1 };
        var trainer = new Option<string>("--trainer") { Description = $"{TrainerSpec.Help} (default torch)", DefaultValueFactory = _ => "torch" };
        var run = new Option<string?>("--run") { Description = "with --roles coordinator,evaluator: the run's name in --journal, to stand by for" };
        var journal = new Option<string?>("--journal") { Description = RunOption.JournalHelp };
        var command = new Command("node", "Run a node that joins a search's cluster: a trainer (one per GPU machine), or a standby coordinator")
        {
            devices, perDevice, trainer, run, journal,
        };
        cluster.AddTo(command, defaultRoles: "trainer");
        command.SetAction((parse, cancel) => CommandErrors.GuardAsync(async () =>
        {
            var spec = cluster.Parse(parse, [ClusterSpec.Trainer]);
            var standby = Standby(spec, parse.GetValue(run), parse.GetValue(journal));
            var deviceList = parse.GetValue(devices)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (deviceList.Length == 0) throw new ArgumentException("--devices: give at least one device");
            if (parse.GetValue(perDevice) < 1) throw new ArgumentException($"--workers-per-device: must be at least 1, got {parse.GetValue(perDevice)}");
            var trainerText = parse.GetValue(trainer)!;
            if (TrainerSpec.TryParse(trainerText, out var trainerError) is not { } trainerSpec) throw new ArgumentException($"--trainer: {trainerError}");
            // Every device is checked before the node joins: a missing GPU is one line, not a node that fails each child.
            if (trainerSpec.Kind == TrainerKind.Torch)
                foreach (var d in deviceList)
                    try { TorchRuntime.ParseDevice(d); }
                    catch (DeviceUnavailableException e) { throw new ArgumentException($"--devices: {e.Message}"); }

            spec.RequireFreePort();
            NodeConfig.Validate(spec);
            // Last, once the options hold: each device's kernels against float64; one that computes wrong does not join.
            if (trainerSpec.Kind == TrainerKind.Torch)
                foreach (var d in deviceList)
                    ChildTrainer.Kernels.DeviceKernels.RequireRight(d);

            // Ctrl-C/SIGTERM is how a node stops, joined or still waiting to join: exit 0 either way.
            try
            {
                while (!cancel.IsCancellationRequested)
                {
                    Console.Error.WriteLine($"nas node: joining {string.Join(", ", spec.Seeds)} as {string.Join(",", spec.Roles)} ...");
                    using var joined = new CancellationTokenSource();
                    // Joining waits for ever (the seed may not be up yet), but says once what may be wrong.
                    _ = Task.Delay(NotJoinedAfter, joined.Token).ContinueWith(_ => Console.Error.WriteLine(
                        $"nas node: not joined after {NotJoinedAfter.TotalSeconds:F0} s; still trying (is a node at {string.Join(" or ", spec.Seeds)} up, reachable from here, and {(spec.Certificate is null ? "without --tls" : "holding the same --tls certificate")}?)"),
                        joined.Token, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
                    await using var node = await TrainerNode.StartAsync(spec, deviceList, parse.GetValue(perDevice), trainerText, cancel, standby);
                    await joined.CancelAsync();
                    var workers = spec.Has(ClusterSpec.Trainer) ? deviceList.Length * parse.GetValue(perDevice) : 0;
                    Console.Out.WriteLine($"node: {node.Address} up, {workers} workers{(standby is { } s ? $", coordinator for {s.Store.Name}" : "")}");
                    Console.Out.Flush();
                    await ServeAsync(node, cancel);
                }
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>
    /// The coordinator and evaluator roles make a standby coordinator: the run's writers run on
    /// the oldest coordinator node, so this one needs the run (a database every machine reaches;
    /// a folder is one machine's) and its stored settings.
    /// </summary>
    private static (RunStore Store, SearchSettings Settings)? Standby(ClusterSpec spec, string? run, string? journal)
    {
        var coordinates = spec.Has(ClusterSpec.Coordinator) || spec.Has(ClusterSpec.Evaluator);
        if (!coordinates)
        {
            if (run is not null || journal is not null)
                throw new ArgumentException($"{(run is not null ? "--run" : "--journal")}: a trainer node needs no run (each job carries its settings); give it with --roles coordinator,evaluator for a standby coordinator");
            return null;
        }
        if (!spec.Has(ClusterSpec.Coordinator) || !spec.Has(ClusterSpec.Evaluator))
            throw new ArgumentException("--roles: the coordinator and the evaluator run together (add both)");
        if (journal is null)
            throw new ArgumentException("--roles: a standby coordinator needs --journal URL and --run NAME (the run's database, which every coordinator node reaches)");
        if (run is null) throw new ArgumentException("--run: give the name of the run in --journal to stand by for");
        var store = RunStore.Open(run, journal);
        return (store, store.Existing() ?? throw new RunFolderException($"{store.Name} does not exist; start it with nas search {store.Options}"));
    }

    /// <summary>Until Ctrl-C, the node's end (downed), or no coordinator for <see cref="Orphaned"/>.</summary>
    private static async Task ServeAsync(TrainerNode node, CancellationToken cancel)
    {
        var lastSeen = DateTime.UtcNow;
        while (!cancel.IsCancellationRequested && !node.Ended.IsCompleted)
        {
            if (node.SeesCoordinator) lastSeen = DateTime.UtcNow;
            else if (DateTime.UtcNow - lastSeen > Orphaned)
            {
                Console.Error.WriteLine($"nas node: no coordinator for {Orphaned.TotalSeconds:F0} s; joining again");
                return;
            }
            await Task.WhenAny(node.Ended, Task.Delay(1000, cancel)).ContinueWith(_ => { });
        }
        if (node.Ended.IsCompleted) Console.Error.WriteLine("nas node: the cluster removed this node; joining again");
    }
}
