using Akka.Actor;
using Akka.Cluster;
using NasActors.Persistence;

namespace NasActors.Node.Hosting;

/// <summary>
/// A machine's node (<c>nas node</c>): joins the cluster at its seeds and runs a worker per device
/// slot that pulls work from the coordinator singleton, wherever that lives. A trainer needs no
/// journal: each job carries its training spec; the trainer command and the devices are the
/// machine's own. A standby coordinator (<c>--roles coordinator,evaluator --journal --run</c>)
/// takes the singleton over when the node running it dies.
/// </summary>
public sealed class TrainerNode : IAsyncDisposable
{
    private readonly ActorSystem system;

    private TrainerNode(ActorSystem system) => this.system = system;

    public Address Address => Cluster.Get(system).SelfAddress;

    /// <summary>Completes when the node's actor system stops by itself (the cluster downed this node).</summary>
    public Task Ended => system.WhenTerminated;

    /// <summary>Whether a coordinator is among the cluster's members now.</summary>
    public bool SeesCoordinator => Cluster.Get(system).State.Members.Any(m => m.HasRole(ClusterSpec.Coordinator) && m.Status == MemberStatus.Up);

    /// <summary>
    /// Starts and joins; waits (without limit) until the cluster accepts this node. With
    /// <paramref name="standby"/> (the coordinator role), it also runs the run's writers when the
    /// cluster hands it the singleton.
    /// </summary>
    public static async Task<TrainerNode> StartAsync(ClusterSpec spec, IReadOnlyList<string> devices, int perDevice, string trainer, CancellationToken cancel,
        (RunStore Store, SearchSettings Settings)? standby = null)
    {
        var config = standby is { } s ? NodeConfig.Node(s.Store, spec) : NodeConfig.Cluster(spec);
        var system = NodeConfig.CreateSystem(ClusterSpec.SystemName, config, spec);
        try
        {
            await SearchNode.JoinAsync(system, spec, timeout: null, cancel);
            if (standby is { } w) SearchNode.StartWriters(system, w.Store, w.Settings);
            if (spec.Has(ClusterSpec.Trainer))
                SearchNode.StartWorkers(system, SearchNode.CoordinatorProxy(system), devices, perDevice, trainer);
            return new TrainerNode(system);
        }
        catch
        {
            await system.Terminate();
            throw;
        }
    }

    public ValueTask DisposeAsync() => new(SearchNode.Leave(system));
}
