
namespace NasActors.Persistence;

/// <summary>
/// The right to write one run's journal, held by the coordinator singleton's host while it writes:
/// with it, two coordinators (a partition, a standby taking over too early, a second search on the
/// same run) never write one persistence id together. Safe to call from several threads.
/// </summary>
public interface IWriterLease : IDisposable
{
    /// <summary>Takes the lease; null when taken, else who holds it or what went wrong (for the log).</summary>
    string? TryAcquire();

    /// <summary>Whether the lease is still held (a lost database connection loses it).</summary>
    bool StillHeld();

    /// <summary>Lets the lease go; it may be taken again.</summary>
    void Release();
}
