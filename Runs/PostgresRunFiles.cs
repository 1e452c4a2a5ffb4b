using NasActors.Search;
using NasActors.Search.Events;
using Npgsql;

namespace NasActors.Runs;

/// <summary>
/// A named run in a shared PostgreSQL database, read straight from Akka.Persistence.Sql's tables
/// with no actor system (as <see cref="SqliteRunFiles"/> reads a folder), and the <c>nas_run</c>
/// table that lists the database's runs with their settings (what run.json is to a folder).
/// </summary>
public static class PostgresRunFiles
{
    private const string RunTable = """
        CREATE TABLE IF NOT EXISTS nas_run (
          id serial PRIMARY KEY,
          name text NOT NULL UNIQUE,
          settings text NOT NULL,
          writer text,
          created timestamptz NOT NULL DEFAULT now())
        """;

    /// <summary>The stored settings (JSON) of run <paramref name="run"/>, or null when the database has no such run.</summary>
    public static string? Settings(PostgresUrl url, string run) =>
        Query(url, connection => HasTable(connection, "nas_run")
            ? Scalar(connection, "SELECT settings FROM nas_run WHERE name = @name", ("name", run)) as string
            : null);

    /// <summary>Creates the run, or replaces its settings (a grown budget).</summary>
    public static void WriteSettings(PostgresUrl url, string run, string settings) =>
        Query(url, connection =>
        {
            Execute(connection, RunTable);
            Execute(connection, "INSERT INTO nas_run (name, settings) VALUES (@name, @settings) ON CONFLICT (name) DO UPDATE SET settings = excluded.settings",
                ("name", run), ("settings", settings));
            return 0;
        });

    /// <summary>The run's number in nas_run: the key of its writer lease.</summary>
    public static int? RunNumber(NpgsqlConnection connection, string run) =>
        HasTable(connection, "nas_run") ? Scalar(connection, "SELECT id FROM nas_run WHERE name = @name", ("name", run)) as int? : null;

    public static IReadOnlyList<StoredEvent> ReadStoredEvents(PostgresUrl url, string run, long after = 0)
    {
        var where = Where(url, run);
        return Query(url, connection =>
        {
            if (!HasTable(connection, "journal")) return [];
            using var command = Command(connection,
                "SELECT sequence_number, manifest, message, created FROM journal WHERE persistence_id = @id AND sequence_number > @after AND NOT deleted ORDER BY sequence_number",
                ("id", SearchJournal.Named(run).CoordinatorId), ("after", after));
            using var reader = command.ExecuteReader();
            return StoredEntries.Events(reader, where);
        });
    }

    public static DateTimeOffset? FirstEventAt(PostgresUrl url, string run) =>
        Query(url, connection => HasTable(connection, "journal")
            && Scalar(connection, "SELECT created FROM journal WHERE persistence_id = @id AND sequence_number = 1", ("id", SearchJournal.Named(run).CoordinatorId)) is long ticks
                ? new DateTimeOffset(ticks, TimeSpan.Zero)
                : (DateTimeOffset?)null);

    /// <summary>The run as stored: the coordinator's latest snapshot and the events after it.</summary>
    public static StoredRun Read(PostgresUrl url, string run)
    {
        var where = Where(url, run);
        var latest = Query(url, connection =>
        {
            if (!HasTable(connection, "snapshot")) return null;
            using var command = Command(connection, "SELECT sequence_number, manifest, snapshot FROM snapshot WHERE persistence_id = @id ORDER BY sequence_number DESC LIMIT 1",
                ("id", SearchJournal.Named(run).CoordinatorId));
            using var reader = command.ExecuteReader();
            return StoredEntries.Snapshot(reader, where);
        });
        var events = ReadStoredEvents(url, run, latest?.SequenceNr ?? 0).Select(e => e.Event);
        return new(SearchState.Fold(events, latest?.State), latest?.Snapshot);
    }

    /// <summary>The run's rows in the journal and snapshot tables, in bytes as PostgreSQL stores them (indexes aside).</summary>
    public static (long Journal, long Snapshots) StoredBytes(PostgresUrl url, string run)
    {
        var ids = SearchJournal.Named(run);
        return Query(url, connection => (
            Scalar(connection, "SELECT COALESCE(SUM(pg_column_size(j.*)), 0)::bigint FROM journal j WHERE persistence_id = @id", ("id", ids.CoordinatorId)) as long? ?? 0,
            Scalar(connection, "SELECT COALESCE(SUM(pg_column_size(s.*)), 0)::bigint FROM snapshot s WHERE persistence_id IN (@a, @b)",
                ("a", ids.CoordinatorId), ("b", ids.EvaluatorId)) as long? ?? 0));
    }

    /// <summary>Opens a connection; a server that cannot be reached or refuses us is one line naming it.</summary>
    public static NpgsqlConnection Open(PostgresUrl url, bool lease = false)
    {
        var connection = new NpgsqlConnection(lease ? url.Lease : url.Unpooled);
        try
        {
            connection.Open();
            return connection;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
        {
            connection.Dispose();
            throw new RunStoreException(e is PostgresException
                ? $"PostgreSQL at {url} refused the connection: {Describe(e)}"
                : $"cannot reach PostgreSQL at {url}: {Describe(e)}", e);
        }
    }

    // The columns of Akka.Persistence.Sql's tables that nas reads and writes.
    private static readonly (string Table, string[] Columns)[] Tables =
    [
        ("journal", ["ordering", "persistence_id", "sequence_number", "created", "deleted", "message", "manifest"]),
        ("snapshot", ["persistence_id", "sequence_number", "created", "snapshot", "manifest"]),
        ("nas_run", ["id", "name", "settings", "writer"]),
    ];

    /// <summary>
    /// Before anything is written: PostgreSQL 14 or later (the writer lease ends idle sessions with
    /// <c>idle_session_timeout</c>), and no table of another program under the names nas uses
    /// (the journal would fail to start for ever, after nas had written its first rows).
    /// </summary>
    public static void RequireWritableDatabase(PostgresUrl url) =>
        Query(url, c =>
        {
            var version = Convert.ToInt32(Scalar(c, "SHOW server_version_num"), System.Globalization.CultureInfo.InvariantCulture);
            if (version < 140000) throw new RunStoreException($"PostgreSQL at {url} is version {version / 10000}; nas writes runs on PostgreSQL 14 or later");
            foreach (var (table, columns) in Tables)
            {
                if (!HasTable(c, table)) continue;
                using var command = Command(c, "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = @table", ("table", table));
                using var reader = command.ExecuteReader();
                var present = new HashSet<string>();
                while (reader.Read()) present.Add(reader.GetString(0));
                if (columns.FirstOrDefault(col => !present.Contains(col)) is { } missing)
                    throw new RunStoreException($"{url}: its table {table} is not nas's (no column {missing}); give nas a database of its own");
            }
            return 0;
        });

    public static string Describe(Exception e) => e switch
    {
        PostgresException p => p.MessageText,
        NpgsqlException { InnerException: System.Net.Sockets.SocketException s } => s.Message,
        NpgsqlException { InnerException: TimeoutException } => "timed out",
        _ => e.Message.Split('\n')[0],
    };

    /// <summary>
    /// A connection kept open for what it holds (a session lock): returned when <paramref name="take"/>
    /// says it got it, else closed (null); closed on any failure, a database failure named in one line.
    /// </summary>
    public static NpgsqlConnection? Hold(PostgresUrl url, bool lease, Func<NpgsqlConnection, bool> take)
    {
        var connection = Open(url, lease);
        try
        {
            if (take(connection)) return connection;
            connection.Dispose();
            return null;
        }
        catch (Exception e)
        {
            connection.Dispose();
            if (e is NpgsqlException or TimeoutException) throw new RunStoreException($"PostgreSQL at {url}: {Describe(e)}", e);
            throw;
        }
    }

    public static T Query<T>(PostgresUrl url, Func<NpgsqlConnection, T> query)
    {
        using var connection = Open(url);
        try
        {
            return query(connection);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            throw new RunStoreException($"PostgreSQL at {url}: {Describe(e)}", e);
        }
    }

    public static object? Scalar(NpgsqlConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        using var command = Command(connection, sql, parameters);
        return command.ExecuteScalar();
    }

    private static void Execute(NpgsqlConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        using var command = Command(connection, sql, parameters);
        command.ExecuteNonQuery();
    }

    private static NpgsqlCommand Command(NpgsqlConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        return command;
    }

    public static bool HasTable(NpgsqlConnection connection, string table) =>
        Scalar(connection, "SELECT to_regclass(@table) IS NOT NULL", ("table", table)) is true;

    private static string Where(PostgresUrl url, string run) => $"run {run} in {url}";
}
