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
public sealed class PostgresWriterLease(PostgresUrl url, string run, string holder) : IWriterLease
{
    // The advisory-lock key space that nas uses: (this, run number).
    private const int KeySpace = 0x6E6173; // "nas"
    private NpgsqlConnection? connection;

    public string? TryAcquire()
    {
        Dispose();
        var c = PostgresRunFiles.Open(url, lease: true);
        try
        {
            var number = PostgresRunFiles.RunNumber(c, run) ?? throw new RunStoreException($"run {run} is not in {url}");
            if (PostgresRunFiles.Scalar(c, "SELECT pg_try_advisory_lock(@space, @run)", ("space", KeySpace), ("run", number)) is not true)
            {
                c.Dispose();
                return Holder(url, run) ?? "another nas process";
            }
            PostgresRunFiles.Scalar(c, "UPDATE nas_run SET writer = @holder WHERE id = @run", ("holder", holder), ("run", number));
            connection = c;
            return null;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            c.Dispose();
            throw new RunStoreException($"PostgreSQL at {url}: {PostgresRunFiles.Describe(e)}", e);
        }
    }

    public bool StillHeld()
    {
        if (connection is null) return false;
        try
        {
            return PostgresRunFiles.Scalar(connection, "SELECT 1") is 1;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Who last took the lease (nas_run.writer): the message a second writer gets.</summary>
    public static string? Holder(PostgresUrl url, string run) =>
        PostgresRunFiles.Query(url, c => PostgresRunFiles.Scalar(c, "SELECT writer FROM nas_run WHERE name = @name", ("name", run)) as string);

    /// <summary>Whether some process holds the run's lease now: the run has a live writer.</summary>
    public static bool Held(PostgresUrl url, string run) =>
        PostgresRunFiles.Query(url, c => PostgresRunFiles.RunNumber(c, run) is { } number
            && PostgresRunFiles.Scalar(c, "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid::bigint = @space AND objid::bigint = @run AND objsubid = 2 AND granted)",
                ("space", (long)KeySpace), ("run", (long)number)) is true);

    public void Dispose()
    {
        connection?.Dispose();
        connection = null;
    }
}
