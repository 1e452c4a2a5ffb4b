using NasActors.Persistence.Storage;
using Npgsql;

namespace NasActors.Persistence;

/// <summary>
/// A run's writer lease on PostgreSQL: a session advisory lock keyed by the run's number, held on a
/// connection of its own. The server releases it the moment that connection ends, so a killed or
/// downed coordinator frees it at once (a frozen or cut-off one within seconds, see
/// <see cref="PostgresUrl.Lease"/>), while a live one keeps it through any partition of the
/// cluster. Should a frozen holder wake and write once more, the journal's unique key on
/// (persistence id, sequence number) lets only one of two writes with the same number in.
/// </summary>
public sealed class PostgresWriterLease(PostgresUrl url, string run, Func<string> holder) : IWriterLease
{
    // The advisory-lock key space that nas uses: (this, run number).
    private const int KeySpace = 0x6E6173; // "nas"

    // Commands' claims: (this, hash of the run's name), so a run not stored yet can be claimed.
    private const int ClaimSpace = 0x6E6163; // "nac"
    private readonly Lock gate = new();
    private NpgsqlConnection? connection;
    private bool disposed;

    public string? TryAcquire()
    {
        lock (gate)
        {
            if (disposed) return "stopped";
            Release();
            connection = PostgresConnections.Hold(url, lease: true, c =>
            {
                var number = PostgresTables.RunNumber(c, run) ?? throw new RunStoreException($"run {run} is not in {url}");
                if (JournalTables.Scalar(c, "SELECT pg_try_advisory_lock(@space, @run)", ("space", KeySpace), ("run", number)) is not true) return false;
                JournalTables.Scalar(c, "UPDATE nas_run SET writer = @holder WHERE id = @run", ("holder", holder()), ("run", number));
                return true;
            });
            if (connection is null) return Holder(url, run) ?? "another nas process";
            DropPooledConnections();
            return null;
        }
    }

    /// <summary>
    /// The journal's pooled connections may predate a server restart (a standby's, or a holder's that
    /// lost the lease to an outage), and Npgsql would hand out such a dead one unchecked, failing the
    /// new writers' first read (57P01). Every writer starts after the lease is taken: it starts on
    /// connections opened after it.
    /// </summary>
    private void DropPooledConnections()
    {
        using var pooled = new NpgsqlConnection(url.ConnectionString);
        NpgsqlConnection.ClearPool(pooled);
    }

    public bool StillHeld()
    {
        lock (gate)
        {
            if (connection is null) return false;
            try
            {
                return JournalTables.Scalar(connection, "SELECT 1") is 1;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                return false;
            }
        }
    }

    /// <summary>Closing the lease's own (unpooled) connection is what releases the lock.</summary>
    public void Release()
    {
        lock (gate)
        {
            connection?.Dispose();
            connection = null;
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            disposed = true;
            Release();
        }
    }

    /// <summary>
    /// A command's own claim on a run (<c>nas search</c>), held for the command's life on a
    /// connection of its own: of two searches started together on one run, one gets it. Null when
    /// another process holds it.
    /// </summary>
    public static IDisposable? Claim(PostgresUrl url, string run) =>
        PostgresConnections.Hold(url, lease: false, c =>
            JournalTables.Scalar(c, "SELECT pg_try_advisory_lock(@space, hashtext(@name))", ("space", ClaimSpace), ("name", run)) is true);

    /// <summary>Who last took the lease (nas_run.writer): the message a second writer gets.</summary>
    public static string? Holder(PostgresUrl url, string run) =>
        PostgresConnections.Query(url, c => PostgresConnections.HasTable(c, "nas_run")
            ? JournalTables.Scalar(c, "SELECT writer FROM nas_run WHERE name = @name", ("name", run)) as string
            : null);

    /// <summary>Whether some process holds the run's lease now: the run has a live writer.</summary>
    public static bool Held(PostgresUrl url, string run) =>
        PostgresConnections.Query(url, c => PostgresTables.RunNumber(c, run) is { } number
            && JournalTables.Scalar(c, "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid::bigint = @space AND objid::bigint = @run AND objsubid = 2 AND granted"
                + " AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))",
                ("space", (long)KeySpace), ("run", (long)number)) is true);
}
