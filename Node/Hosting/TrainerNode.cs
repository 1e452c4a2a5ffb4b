using Akka.Actor;
using Akka.Cluster;

namespace NasActors.Node.Hosting;

/// <summary>
/// A machine's trainer node (<c>nas node --roles trainer</c>): joins the cluster at its seeds and
/// runs a worker per device slot that pulls work from the coordinator singleton, wherever that
/// lives. It needs no journal: each job carries its training spec; the trainer command and the
/// devices are the machine's own.
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

    /// <summary>Starts and joins; waits (without limit) until the cluster accepts this node.</summary>
    public static async Task<TrainerNode> StartAsync(ClusterSpec spec, IReadOnlyList<string> devices, int perDevice, string trainer, CancellationToken cancel)
    {
        var system = NodeConfig.CreateSystem(ClusterSpec.SystemName, NodeConfig.Cluster(spec), spec);
        try
        {
            await SearchNode.JoinAsync(system, spec, timeout: null, cancel);
            SearchNode.StartWorkers(system, SearchNode.CoordinatorProxy(system), devices, perDevice, trainer);
            return new TrainerNode(system);
        }
        catch
        {
            await system.Terminate();
            throw;
        }
    }

    /// <summary>
    /// Leaves the cluster gracefully (the coordinator requeues what this node's workers were
    /// training at once, instead of waiting for the failure detector), then stops.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (!system.WhenTerminated.IsCompleted)
        {
            try
            {
                await Cluster.Get(system).LeaveAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (TimeoutException)
            {
                // A cluster that cannot be reached cannot be left: stop anyway.
            }
        }
        await system.Terminate().WaitAsync(TimeSpan.FromSeconds(15));
    }
}
