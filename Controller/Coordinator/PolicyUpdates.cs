using Akka.Actor;
using NasActors.Controller.Strategies;

namespace NasActors.Controller.Coordinator;

/// <summary>
/// The policy-update pipeline: one update at a time is computed on the thread pool while the
/// coordinator goes on; its result comes back as a message, and is installed only by the
/// incarnation that asked for it and only onto the policy version it was computed from.
/// </summary>
public sealed class PolicyUpdates
{
    /// <summary>A computed update, for the incarnation and policy version it was prepared from.</summary>
    public sealed record Computed(Guid Incarnation, int FromVersion, byte[] Weights);

    public sealed record Failed(Guid Incarnation, Exception Cause);

    // A restart keeps the actor's ref: an update still computing from before it must not be installed after it.
    private readonly Guid incarnation = Guid.NewGuid();

    /// <summary>An update computes now.</summary>
    public bool Computing { get; private set; }

    /// <summary>Starts the strategy's next pending update, unless one computes already; the result goes to <paramref name="self"/>.</summary>
    public void Start(ISearchStrategy? strategy, IActorRef self)
    {
        if (Computing || strategy is not { HasPendingUpdate: true }) return;
        Computing = true;
        var compute = strategy.PrepareUpdate();
        var (me, from) = (incarnation, strategy.PolicyVersion);
        Task.Run(compute).PipeTo(self, success: w => new Computed(me, from, w), failure: e => new Failed(me, e));
    }

    /// <summary>Whether <paramref name="update"/> is this incarnation's, computed from the strategy's current version.</summary>
    public bool Current(Computed update, ISearchStrategy? strategy) => update.Incarnation == incarnation && update.FromVersion == strategy?.PolicyVersion;

    /// <summary>Whether a failure is this incarnation's (an earlier one's is not ours to act on).</summary>
    public bool Ours(Failed failure) => failure.Incarnation == incarnation;

    /// <summary>The update is stored: the next may start.</summary>
    public void Stored() => Computing = false;
}
