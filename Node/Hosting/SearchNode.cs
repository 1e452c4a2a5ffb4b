using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Tools.Singleton;
using Akka.Pattern;
using NasActors.ChildTrainer.Workers;
using NasActors.Controller.Coordinator;
using NasActors.Evaluator;
using NasActors.Persistence;
using NasActors.Protocol.Messages;

namespace NasActors.Node.Hosting;

/// <summary>
/// A node with every role, as the embedded default runs it: a one-node cluster that joins itself,
/// the coordinator as a cluster singleton (restarted with backoff when its journal fails), a
/// worker per device slot reaching it through a singleton proxy, and the evaluator.
/// </summary>
public sealed class SearchNode : IAsyncDisposable
{
    private SearchNode(ActorSystem system, IActorRef coordinator)
    {
        System = system;
        Coordinator = coordinator;
    }

    public ActorSystem System { get; }

    /// <summary>The singleton proxy: where every message for the coordinator goes.</summary>
    public IActorRef Coordinator { get; }

    public static async Task<SearchNode> StartAsync(string runDirectory, SearchSettings settings, CancellationToken cancel = default, WorkerMetrics? metrics = null)
    {
        // Loading libtorch takes seconds: do it before the actors start, not inside one of them.
        TorchSharp.torch.zeros(1).Dispose();
        var system = ActorSystem.Create("nas", NodeConfig.Node(runDirectory));
        try
        {
            var cluster = Cluster.Get(system);
            var up = new TaskCompletionSource();
            cluster.RegisterOnMemberUp(() => up.TrySetResult());
            await cluster.JoinAsync(cluster.SelfAddress, cancel);
            await up.Task.WaitAsync(TimeSpan.FromSeconds(30), cancel);

            var supervised = BackoffSupervisor.Props(Backoff.OnStop(
                SearchCoordinator.Props(settings), "search-coordinator",
                TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10), 0.2, maxNrOfRetries: -1));
            system.ActorOf(ClusterSingletonManager.Props(supervised, PoisonPill.Instance,
                ClusterSingletonManagerSettings.Create(system).WithRole("coordinator")), "coordinator");
            var proxy = system.ActorOf(ClusterSingletonProxy.Props("/user/coordinator",
                ClusterSingletonProxySettings.Create(system).WithRole("coordinator")), "coordinator-proxy");

            var slot = 0;
            var node = $"{Environment.MachineName}:{Environment.ProcessId}";
            foreach (var device in settings.Devices)
                for (var k = 0; k < settings.WorkersPerDevice; k++)
                    system.ActorOf(DeviceWorker.Props($"{node}/{device}#{k}", device, ChildTrainers.Create(settings.Trainer), proxy, metrics), $"worker-{slot++}");

            system.ActorOf(LeaderboardKeeper.Props(proxy, Math.Max(settings.TopK, 10)), "evaluator");
            return new SearchNode(system, proxy);
        }
        catch
        {
            await system.Terminate();
            throw;
        }
    }

    public async Task<SearchStatus?> StatusAsync()
    {
        try
        {
            return await Coordinator.Ask<SearchStatus>(new GetSearchStatus(), TimeSpan.FromSeconds(2));
        }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
        {
            // The singleton is (re)starting; the next poll will find it.
            return null;
        }
    }

    /// <summary>
    /// Stops the node. Every result is already in the journal when acknowledged, so stopping is
    /// safe at any moment; a child in training is cancelled and will be trained again on resume.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        await System.Terminate().WaitAsync(TimeSpan.FromSeconds(15));
    }
}
