using System.CommandLine;
using NasActors.Training.Data;
using NasActors.Hosting;
using NasActors.Protocol;
using NasActors.Protocol.Messages;
using NasActors.Persistence;
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
            if (parse.GetValue(perDevice) < 1) throw new InputException("--workers-per-device", $"must be at least 1, got {parse.GetValue(perDevice)}");
            var trainerText = parse.GetValue(trainer)!;
            var trainerSpec = Preflight.Trainer(trainerText);
            // Every device is checked before the node joins: a missing GPU is one line, not a node that fails each child.
            if (spec.Has(ClusterSpec.Trainer)) Preflight.Devices(deviceList);
            // Read by every child this node trains: a value that cannot be read stops the node now, once.
            if (spec.Has(ClusterSpec.Trainer)) ImageDataset.StreamAboveBytes();
            spec.RequireFreePort();
            NodeConfig.Validate(spec);
            // Last, once the options hold: each device's kernels against float64; one that computes wrong does not join.
            if (spec.Has(ClusterSpec.Trainer)) Preflight.Kernels(trainerSpec, deviceList);

            // Ctrl-C/SIGTERM is how a node stops, joined or still waiting to join: exit 0 either way.
            try
            {
                await MachineNode.ServeAsync(spec, deviceList, parse.GetValue(perDevice), trainerText, standby, node =>
                {
                    var workers = spec.Has(ClusterSpec.Trainer) ? deviceList.Length * parse.GetValue(perDevice) : 0;
                    Console.Out.WriteLine($"node: {node.Address} up, {workers} workers{(standby is { } s ? $", coordinator for {s.Store.Name}" : "")}");
                    Console.Out.Flush();
                }, line => Console.Error.WriteLine($"nas node: {line}"), cancel);
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
                throw new InputException(run is not null ? "--run" : "--journal", "a trainer node needs no run (each job carries its settings); give it with --roles coordinator,evaluator for a standby coordinator");
            return null;
        }
        if (!spec.Has(ClusterSpec.Coordinator) || !spec.Has(ClusterSpec.Evaluator))
            throw new InputException("--roles", "the coordinator and the evaluator run together (add both)");
        if (journal is null)
            throw new InputException("--roles", "a standby coordinator needs --journal URL and --run NAME (the run's database, which every coordinator node reaches)");
        if (run is null) throw new InputException("--run", "give the name of the run in --journal to stand by for");
        var store = RunStore.Open(run, journal);
        return (store, store.SettingsBeforeWriting() ?? throw new InvalidRunException($"{store.Name} does not exist; start it with nas search {RunOption.Options(store)}"));
    }
}
