using Akka.Actor;
using Akka.Persistence;

namespace NasActors.Hosting;

/// <summary>
/// Recovers a persistence id that has no events, once: a standby's journal and snapshot plugins
/// (their connections, queries and compiled code) are then ready before a takeover needs them,
/// instead of being started while the search waits for its new coordinator.
/// </summary>
public sealed class JournalWarmup : ReceivePersistentActor
{
    private readonly TaskCompletionSource done;

    public JournalWarmup(TaskCompletionSource done)
    {
        this.done = done;
        Recover<RecoveryCompleted>(_ =>
        {
            done.TrySetResult();
            Context.Stop(Self);
        });
    }

    public override string PersistenceId { get; } = $"nas-warmup-{Guid.NewGuid():N}";

    protected override void OnRecoveryFailure(Exception reason, object? message = null) => done.TrySetException(reason);
}
