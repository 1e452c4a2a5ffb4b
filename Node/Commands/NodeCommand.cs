using System.CommandLine;
using NasActors.ChildTrainer;
using NasActors.Node.Hosting;
using NasActors.Protocol.Messages;

namespace NasActors.Node.Commands;

/// <summary>
/// <c>nas node</c>: a long-lived trainer node for a machine. Joins the cluster of a search, trains
/// what the coordinator hands out, waits while there is no work, and stops on Ctrl-C/SIGTERM by
/// leaving the cluster. When its cluster is gone (the search ended, or the cluster downed this
/// node) it starts afresh and joins again, so one node per machine serves search after search.
/// </summary>
public static class NodeCommand
{
    // A node that has seen no coordinator for this long starts afresh (a search that ended leaves
    // its trainer nodes alone in a cluster of their own; a new search at the seed starts another).
    private static readonly TimeSpan Orphaned = TimeSpan.FromSeconds(30);

    public static Command Create()
    {
        var cluster = new ClusterOptions(joinRequired: true);
        var devices = new Option<string>("--devices") { Description = "comma-separated devices: cpu, cuda:0, ... (default cpu)", DefaultValueFactory = _ => "cpu" };
        var perDevice = new Option<int>("--workers-per-device") { Description = "workers per device (default 1)", DefaultValueFactory = _ => 1 };
        var trainer = new Option<string>("--trainer") { Description = $"{TrainerSpec.Help} (default torch)", DefaultValueFactory = _ => "torch" };
        var command = new Command("node", "Run a trainer node that joins a search's cluster (one per GPU machine)") { devices, perDevice, trainer };
        cluster.AddTo(command, defaultRoles: "trainer");
        command.SetAction((parse, cancel) => CommandErrors.GuardAsync(async () =>
        {
            var spec = cluster.Parse(parse, [ClusterSpec.Trainer]);
            if (spec.Roles.Any(r => r != ClusterSpec.Trainer))
                throw new ArgumentException("--roles: nas node serves the trainer role; the coordinator and evaluator run in nas search (a standby coordinator needs a journal that several machines share, which this version does not have)");
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

            // Ctrl-C/SIGTERM is how a node stops, joined or still waiting to join: exit 0 either way.
            try
            {
                while (!cancel.IsCancellationRequested)
                {
                    Console.Error.WriteLine($"nas node: joining {string.Join(", ", spec.Seeds)} as {string.Join(",", spec.Roles)} ...");
                    await using var node = await TrainerNode.StartAsync(spec, deviceList, parse.GetValue(perDevice), trainerText, cancel);
                    Console.Out.WriteLine($"node: {node.Address} up, {deviceList.Length * parse.GetValue(perDevice)} workers");
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
