using Akka.Actor;
using Akka.Cluster;
using Akka.Event;

namespace NasActors.Hosting;

/// <summary>
/// Says in the node's log what each change of another node's membership means and whether the
/// operator needs to act. Akka's own lines for these changes (the transport's "Disassociated",
/// "Marking node(s) as UNREACHABLE") are left out of the log (<see cref="RunLog"/>): they name
/// the mechanism, not what happened. The nodes it reported away are published
/// (<see cref="PeersAway"/>) so that the transport's retries to reach them are left out too.
/// </summary>
public sealed class MembershipLog : ReceiveActor, IWithTimers
{
    // After this, a removed node's address is forgotten: the transport has quarantined it and no
    // longer tries to reach it (and a node restarted on a free port comes back at another address).
    private static readonly TimeSpan ForgetRemovedAfter = TimeSpan.FromMinutes(1);

    private readonly Cluster cluster = Cluster.Get(Context.System);
    private readonly HashSet<string> away = [];

    /// <summary>The addresses of the nodes that are unreachable or were removed after being so.</summary>
    public sealed record PeersAway(IReadOnlySet<string> Addresses);

    private sealed record SelfUp;

    private sealed record Forget(Address Address);

    public ITimerScheduler Timers { get; set; } = null!;

    public MembershipLog()
    {
        var log = Context.GetLogger();
        var stableAfter = Context.System.Settings.Config.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after");
        // Members from this node's own "up" on, with a snapshot: the members it finds then did not just join.
        Receive<SelfUp>(_ => cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.ClusterShuttingDown)));
        Receive<ClusterEvent.CurrentClusterState>(_ => { });
        // This node leaves: the cluster then reports every other member removed, which they are not.
        Receive<ClusterEvent.ClusterShuttingDown>(_ => Become(() => ReceiveAny(_ => { })));
        Receive<ClusterEvent.IMemberEvent>(e =>
        {
            if (e.Member.Address == cluster.SelfAddress) return;
            if (Line(e) is { } line) log.Warning(line);
            // Downed, leaving, exiting: no change until it is removed or up again.
            if (e is ClusterEvent.MemberUp or ClusterEvent.MemberRemoved)
                Mark(e.Member.Address, e is ClusterEvent.MemberRemoved { PreviousStatus: MemberStatus.Down });
            if (e is ClusterEvent.MemberRemoved) Timers.StartSingleTimer(e.Member.Address, new Forget(e.Member.Address), ForgetRemovedAfter);
            else if (e is ClusterEvent.MemberUp) Timers.Cancel(e.Member.Address);
        });
        Receive<Forget>(f => Mark(f.Address, false));
        Receive<ClusterEvent.ReachabilityEvent>(e =>
        {
            if (e.Member.Address == cluster.SelfAddress) return;
            log.Warning(Line(e, stableAfter));
            Mark(e.Member.Address, e is ClusterEvent.UnreachableMember);
        });
    }

    private void Mark(Address address, bool isAway)
    {
        if (isAway ? away.Add(address.ToString()) : away.Remove(address.ToString()))
            Context.System.EventStream.Publish(new PeersAway(away.ToHashSet()));
    }

    /// <summary>What a member event means, or null for the steps between (joining, leaving, exiting).</summary>
    public static string? Line(ClusterEvent.IMemberEvent e) => e switch
    {
        ClusterEvent.MemberUp up => $"node {up.Member.Address} joined the cluster ({Roles(up.Member)})",
        ClusterEvent.MemberRemoved { PreviousStatus: MemberStatus.Exiting } left =>
            $"node {left.Member.Address} left the cluster cleanly ({Roles(left.Member)}): {WhatFollows(left.Member)}; nothing is needed",
        ClusterEvent.MemberRemoved { PreviousStatus: MemberStatus.Down } removed =>
            $"node {removed.Member.Address} was removed from the cluster after it stayed unreachable ({Roles(removed.Member)}): {WhatFollows(removed.Member)}; " +
            "start it again to bring it back",
        _ => null,
    };

    public static string Line(ClusterEvent.ReachabilityEvent e, TimeSpan stableAfter) => e switch
    {
        ClusterEvent.UnreachableMember u =>
            $"node {u.Member.Address} is unreachable ({Roles(u.Member)}; it crashed, was stopped or paused, or the network is cut): " +
            $"if it stays so for {stableAfter.TotalSeconds:0.#} s it is removed and its children are trained elsewhere; nothing is needed unless it was not meant to stop",
        _ => $"node {e.Member.Address} is reachable again ({Roles(e.Member)}): nothing is needed",
    };

    /// <summary>What the cluster does about a member that is gone, by the roles it served.</summary>
    private static string WhatFollows(Member m)
    {
        var follows = new List<string>();
        if (m.HasRole(ClusterSpec.Trainer)) follows.Add("anything it was training goes back to the queue");
        // The search's coordinator and evaluator run together on the oldest node of the coordinator role.
        if (m.HasRole(ClusterSpec.Coordinator)) follows.Add("the search it ran, if any, moves to another node of the coordinator role");
        return follows.Count == 0 ? "it ran nothing that moves" : string.Join("; ", follows);
    }

    private static string Roles(Member m) => m.Roles.Count == 0 ? "no roles" : "roles " + string.Join(", ", m.Roles.Order(StringComparer.Ordinal));

    protected override void PreStart()
    {
        var self = Self;
        cluster.RegisterOnMemberUp(() => self.Tell(new SelfUp()));
        // Reachability from the first gossip on: a node that joins while a killed one is still a
        // member learns at once that it is away, so the transport's retries to it stay out of the log.
        cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.ReachabilityEvent));
    }

    protected override void PostStop() => cluster.Unsubscribe(Self);

    public static Props Props() => Akka.Actor.Props.Create(() => new MembershipLog());
}
