using Akka.Actor;
using Akka.Cluster;
using NasActors.Runs;
using NasActors.Search;

namespace NasActors.Hosting;

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
            var proxy = SearchNode.CoordinatorProxy(system);
            if (standby is { } w)
            {
                await RequireSameRun(proxy, w.Store, cancel);
                SearchNode.StartWriters(system, w.Store, w.Settings);
            }
            if (spec.Has(ClusterSpec.Trainer))
                SearchNode.StartWorkers(system, proxy, devices, perDevice, trainer);
            return new TrainerNode(system);
        }
        catch
        {
            await system.Terminate();
            throw;
        }
    }

    /// <summary>
    /// A cluster serves one run: a standby for another run (a typo in <c>--run</c>) would take the
    /// cluster's trainers to that run when the coordinator fails over. A coordinator that answers
    /// within a few seconds must be writing this run.
    /// </summary>
    private static async Task RequireSameRun(IActorRef proxy, RunStore store, CancellationToken cancel)
    {
        for (var attempt = 0; attempt < 4; attempt++)
        {
            try
            {
                var status = await proxy.Ask<Protocol.Messages.SearchStatus>(new Protocol.Messages.GetSearchStatus(), TimeSpan.FromSeconds(2), cancel);
                if (status.Run == store.Ids.CoordinatorId) return;
                throw new ArgumentException($"--run: the cluster at --join serves another run ({status.Run}), not {store.Name}; a standby must name the cluster's run");
            }
            catch (Akka.Actor.AskTimeoutException)
            {
                // No coordinator answering yet (none, or one taking its lease): try again, then stand by.
            }
        }
    }

    public ValueTask DisposeAsync() => new(SearchNode.Leave(system));
}
