using Akka.Actor;
using Akka.Cluster;
using NasActors.Protocol;
using NasActors.Persistence;
using NasActors.Search;

namespace NasActors.Hosting;

/// <summary>
/// A machine's node (<c>nas node</c>): joins the cluster at its seeds and runs a worker per device
/// slot that pulls work from the coordinator singleton, wherever that lives; or stands by as a
/// coordinator. A trainer needs no journal: each job carries its training spec; the trainer
/// command and the devices are the machine's own. A standby coordinator (the coordinator and
/// evaluator roles, on a run in a database) takes the singleton over when the node running it dies.
/// </summary>
public sealed class MachineNode : IAsyncDisposable
{
    // A node that has seen no coordinator for this long starts afresh (a search that ended leaves
    // its trainer nodes alone in a cluster of their own; a new search at the seed starts another).
    private static readonly TimeSpan Orphaned = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan NotJoinedAfter = TimeSpan.FromSeconds(30);

    private readonly ActorSystem system;

    private MachineNode(ActorSystem system) => this.system = system;

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
    public static async Task<MachineNode> StartAsync(ClusterSpec spec, IReadOnlyList<string> devices, int perDevice, string trainer, CancellationToken cancel,
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
                // What a takeover would otherwise start while the search waits: the journal's
                // plugins, and libtorch for a PPO run's controller.
                await WarmJournal(system, TimeSpan.FromSeconds(30), cancel);
                if (w.Settings.Strategy == "ppo") TorchSharp.torch.zeros(1).Dispose();
                SearchNode.StartWriters(system, w.Store, w.Settings);
            }
            if (spec.Has(ClusterSpec.Trainer))
                SearchNode.StartWorkers(system, proxy, devices, perDevice, trainer, artifacts: spec.Artifacts);
            return new MachineNode(system);
        }
        catch
        {
            await system.Terminate();
            throw;
        }
    }

    /// <summary>Warms the plugins up; a journal that cannot be read now is left to the coordinator's own recovery (which retries and says why).</summary>
    private static async Task WarmJournal(ActorSystem system, TimeSpan timeout, CancellationToken cancel)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        system.ActorOf(Props.Create(() => new JournalWarmup(done)), "journal-warmup");
        try
        {
            await done.Task.WaitAsync(timeout, cancel);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Not ready now: nothing is lost, the takeover only pays the start-up itself.
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
                throw new InputException(RunInputs.Run, $"the cluster joined serves another run ({status.Run}), not {store.Name}; a standby must name the cluster's run");
            }
            catch (Akka.Actor.AskTimeoutException)
            {
                // No coordinator answering yet (none, or one taking its lease): try again, then stand by.
            }
        }
    }

    /// <summary>
    /// Serves search after search until <paramref name="cancel"/>: joins, and when its cluster is
    /// gone (the search ended, or the cluster removed this node) starts afresh and joins again.
    /// </summary>
    /// <param name="up">Called with each joined node.</param>
    /// <param name="say">A line of news (not joined yet, joining again).</param>
    public static async Task ServeAsync(ClusterSpec spec, IReadOnlyList<string> devices, int perDevice, string trainer,
        (RunStore Store, SearchSettings Settings)? standby, Action<MachineNode> up, Action<string> say, CancellationToken cancel)
    {
        while (!cancel.IsCancellationRequested)
        {
            say($"joining {string.Join(", ", spec.Seeds)} as {string.Join(",", spec.Roles)} ...");
            using var joined = new CancellationTokenSource();
            // Joining waits for ever (the seed may not be up yet), but says once what may be wrong.
            _ = Task.Delay(NotJoinedAfter, joined.Token).ContinueWith(_ => say(
                $"not joined after {NotJoinedAfter.TotalSeconds:F0} s; still trying (is a node at {string.Join(" or ", spec.Seeds)} up, reachable from here, and {(spec.Certificate is null ? "without TLS" : "holding the same TLS certificate")}?)"),
                joined.Token, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            await using var node = await StartAsync(spec, devices, perDevice, trainer, cancel, standby);
            await joined.CancelAsync();
            up(node);
            await node.UntilGone(say, cancel);
        }
    }

    /// <summary>Until <paramref name="cancel"/>, the node's end (downed), or no coordinator for <see cref="Orphaned"/>.</summary>
    private async Task UntilGone(Action<string> say, CancellationToken cancel)
    {
        var lastSeen = DateTime.UtcNow;
        while (!cancel.IsCancellationRequested && !Ended.IsCompleted)
        {
            if (SeesCoordinator) lastSeen = DateTime.UtcNow;
            else if (DateTime.UtcNow - lastSeen > Orphaned)
            {
                say($"no coordinator for {Orphaned.TotalSeconds:F0} s; joining again");
                return;
            }
            await Task.WhenAny(Ended, Task.Delay(1000, cancel)).ContinueWith(_ => { });
        }
        if (Ended.IsCompleted) say("the cluster removed this node; joining again");
    }

    public ValueTask DisposeAsync() => new(SearchNode.Leave(system));
}
