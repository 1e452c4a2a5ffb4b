using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Tools.Singleton;
using Akka.Pattern;
using NasActors.ChildTrainer.Workers;
using NasActors.Controller.Coordinator;
using NasActors.Evaluator;
using NasActors.Protocol.Messages;
using NasActors.Persistence;
using NasActors.Search;

namespace NasActors.Hosting;

/// <summary>
/// The node of <c>nas search</c>: the coordinator as a cluster singleton (restarted with backoff
/// when its journal fails) and the evaluator, and, with the trainer role, a worker per device
/// slot reaching the coordinator through a singleton proxy. The embedded default is a one-node
/// cluster with every role that joins itself; with seeds, trainer nodes (<see cref="MachineNode"/>)
/// join it.
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

    public static async Task<SearchNode> StartAsync(RunStore store, SearchSettings settings, CancellationToken cancel = default, WorkerMetrics? metrics = null,
        ClusterSpec? cluster = null)
    {
        cluster ??= ClusterSpec.Embedded;
        // Loading libtorch takes seconds: do it before the actors start, not inside one of them.
        TorchSharp.torch.zeros(1).Dispose();
        var system = NodeConfig.CreateSystem(ClusterSpec.SystemName, NodeConfig.Node(store, cluster), cluster);
        try
        {
            await JoinAsync(system, cluster, TimeSpan.FromSeconds(30), cancel);
            StartWriters(system, store, settings);
            var proxy = CoordinatorProxy(system);
            if (cluster.Has(ClusterSpec.Trainer))
                StartWorkers(system, proxy, settings.Devices, settings.WorkersPerDevice, settings.Trainer, metrics, lone: cluster.Lone,
                    artifacts: cluster.Artifacts ?? (store is FolderRunStore folder ? folder.Directory : null));
            return new SearchNode(system, proxy);
        }
        catch
        {
            await system.Terminate();
            throw;
        }
    }

    /// <summary>
    /// The singleton on this node's coordinator role (the oldest such node runs it, the others
    /// stand by): the run's writers behind its lease. The coordinator and the evaluator beside it
    /// (it writes the same run) are restarted with backoff when their journal fails.
    /// </summary>
    public static void StartWriters(ActorSystem system, RunStore store, SearchSettings settings) =>
        system.ActorOf(ClusterSingletonManager.Props(Writers(store, settings), PoisonPill.Instance,
            ClusterSingletonManagerSettings.Create(system).WithRole(ClusterSpec.Coordinator)), "coordinator");

    private static Props Writers(RunStore store, SearchSettings settings) =>
        RunWriter.Props(store.Lease(), (context, generation) =>
        {
            // The settings as stored now, not as this node started with: a standby that takes over
            // after a resume changed the budget or the time limits would otherwise ask for the old ones.
            var requested = Stored(store) ?? settings;
            var coordinator = context.ActorOf(Restarted(SearchCoordinator.Props(requested, ids: store.Ids, host: context.Self), "search-coordinator"), $"coordinator-{generation}");
            context.ActorOf(Restarted(LeaderboardKeeper.Props(coordinator, Math.Max(settings.TopK, 10), store.Ids), "leaderboard"), $"evaluator-{generation}");
            return coordinator;
        }, () => store.ReadSettings()?.Budget, () => FinishedAsStored(store));

    private static SearchSettings? Stored(RunStore store)
    {
        try
        {
            return store.ReadSettings();
        }
        catch (Exception e) when (e is IOException or InvalidRunException or RunStoreException or global::System.Data.Common.DbException or TimeoutException)
        {
            return null;
        }
    }

    /// <summary>The run's status when, as stored, it is finished and its stored budget has not grown (read without recovering it).</summary>
    private static SearchStatus? FinishedAsStored(RunStore store)
    {
        var state = store.ReadState();
        return state is { Settings: not null, Finished: true } && (store.ReadSettings()?.Budget ?? 0) <= state.Budget
            ? SearchViews.Status(state, stored: true, new Dictionary<long, (int, int)>(), store.Ids.CoordinatorId)
            : null;
    }

    /// <summary>Started again whenever it stops (a failed journal), 0.2 s to 10 s apart.</summary>
    private static Props Restarted(Props writer, string name) =>
        BackoffSupervisor.Props(Backoff.OnStop(writer, name, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10), 0.2, maxNrOfRetries: -1));

    /// <summary>Joins the seeds (or itself, without any) and waits until this node is up.</summary>
    public static async Task JoinAsync(ActorSystem system, ClusterSpec spec, TimeSpan? timeout, CancellationToken cancel)
    {
        var cluster = Cluster.Get(system);
        var up = new TaskCompletionSource();
        cluster.RegisterOnMemberUp(() => up.TrySetResult());
        if (spec.Seeds.Count == 0)
            await cluster.JoinAsync(cluster.SelfAddress, cancel);
        else
            cluster.JoinSeedNodes(spec.SeedAddresses.Select(Address.Parse));
        await (timeout is { } t ? up.Task.WaitAsync(t, cancel) : up.Task.WaitAsync(cancel));
    }

    /// <summary>Where every message for the coordinator singleton goes, from any node.</summary>
    public static IActorRef CoordinatorProxy(ActorSystem system) =>
        system.ActorOf(ClusterSingletonProxy.Props("/user/coordinator",
            ClusterSingletonProxySettings.Create(system).WithRole(ClusterSpec.Coordinator)), "coordinator-proxy");

    /// <summary>
    /// One worker per device slot. A worker id names its machine and process
    /// (<c>HOST:PID/DEVICE#K</c>), so results and failures say where they came from. A
    /// <paramref name="lone"/> node's slots are its machine's alone (<c>HOST/DEVICE#K</c>): after a
    /// crash, the restarted process is the same worker, which takes back at once what it was
    /// training (no claim period to wait out while other children overtake it, so a resumed
    /// search meets its children's rungs in the order the uninterrupted one would).
    /// </summary>
    /// <param name="artifacts">Where the workers keep children's checkpoints and finalists' networks (null: none kept).</param>
    public static void StartWorkers(ActorSystem system, IActorRef proxy, IReadOnlyList<string> devices, int perDevice, string trainer, WorkerMetrics? metrics = null,
        bool lone = false, string? artifacts = null)
    {
        var slot = 0;
        var node = lone ? Environment.MachineName : $"{Environment.MachineName}:{Environment.ProcessId}";
        var cadence = DeviceCheckCadence.From(system.Settings.Config);
        foreach (var device in devices)
            for (var k = 0; k < perDevice; k++)
                system.ActorOf(DeviceWorker.Props($"{node}/{device}#{k}", device, ChildTrainers.Create(trainer, artifacts), proxy, metrics, cadence), $"worker-{slot++}");
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
    public async ValueTask DisposeAsync() => await Leave(System);

    /// <summary>
    /// Leaves the cluster gracefully, then stops: the singleton is handed over at once (no waiting
    /// for the failure detector) and the coordinator requeues this node's children at once.
    /// </summary>
    public static async Task Leave(ActorSystem system)
    {
        if (!system.WhenTerminated.IsCompleted)
        {
            try
            {
                await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClusterLeavingReason.Instance).WaitAsync(TimeSpan.FromSeconds(15));
            }
            catch (TimeoutException)
            {
                // A cluster that cannot be reached cannot be left: stop anyway.
            }
        }
        await system.Terminate().WaitAsync(TimeSpan.FromSeconds(15));
    }
}
