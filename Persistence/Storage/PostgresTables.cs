using System.Data.Common;
using Npgsql;

namespace NasActors.Persistence.Storage;

/// <summary>
/// A named run in a shared PostgreSQL database: its journal and snapshots under the run's own
/// persistence ids, and its row in <c>nas_run</c>, which lists the database's runs with their
/// settings (what run.json is to a folder) and names the run's writer.
/// </summary>
public sealed class PostgresTables(PostgresUrl url, string run) : JournalTables(PersistenceIds.Named(run))
{
    private const string RunTable = """
        CREATE TABLE IF NOT EXISTS nas_run (
          id serial PRIMARY KEY,
          name text NOT NULL UNIQUE,
          settings text NOT NULL,
          writer text,
          created timestamptz NOT NULL DEFAULT now())
        """;

    // The columns of the tables that nas reads and writes (Akka.Persistence.Sql's and its own).
    private static readonly (string Table, string[] Columns)[] Tables =
    [
        ("journal", ["ordering", "persistence_id", "sequence_number", "created", "deleted", "message", "manifest"]),
        ("snapshot", ["persistence_id", "sequence_number", "created", "snapshot", "manifest"]),
        ("nas_run", ["id", "name", "settings", "writer"]),
    ];

    public override string Where(StoredTable table) => $"run {run} in {url}";

    protected override bool HasTable(DbConnection connection, StoredTable table) => PostgresConnections.HasTable(connection, Name(table));

    protected override T Query<T>(StoredTable table, Func<DbConnection, T> query) => PostgresConnections.Query(url, query);

    /// <summary>The stored settings (JSON) of the run, or null when the database has no such run.</summary>
    public string? Settings() =>
        PostgresConnections.Query(url, connection => PostgresConnections.HasTable(connection, "nas_run")
            ? Scalar(connection, "SELECT settings FROM nas_run WHERE name = @name", ("name", run)) as string
            : null);

    /// <summary>Creates the run, or replaces its settings (a grown budget).</summary>
    public void WriteSettings(string settings) =>
        PostgresConnections.Query(url, connection =>
        {
            Execute(connection, RunTable);
            Execute(connection, "INSERT INTO nas_run (name, settings) VALUES (@name, @settings) ON CONFLICT (name) DO UPDATE SET settings = excluded.settings",
                ("name", run), ("settings", settings));
            return 0;
        });

    /// <summary>The run's rows in the journal and snapshot tables, in bytes as PostgreSQL stores them (indexes aside).</summary>
    public (long Journal, long Snapshots) StoredBytes()
    {
        var ids = PersistenceIds.Named(run);
        return PostgresConnections.Query(url, connection => (
            Scalar(connection, "SELECT COALESCE(SUM(pg_column_size(j.*)), 0)::bigint FROM journal j WHERE persistence_id = @id", ("id", ids.CoordinatorId)) as long? ?? 0,
            Scalar(connection, "SELECT COALESCE(SUM(pg_column_size(s.*)), 0)::bigint FROM snapshot s WHERE persistence_id IN (@a, @b)",
                ("a", ids.CoordinatorId), ("b", ids.EvaluatorId)) as long? ?? 0));
    }

    /// <summary>The run's number in nas_run: the key of its writer lease.</summary>
    public static int? RunNumber(DbConnection connection, string run) =>
        PostgresConnections.HasTable(connection, "nas_run") ? Scalar(connection, "SELECT id FROM nas_run WHERE name = @name", ("name", run)) as int? : null;

    /// <summary>
    /// Before anything is written: PostgreSQL 14 or later (the writer lease ends idle sessions with
    /// <c>idle_session_timeout</c>), and no table of another program under the names nas uses
    /// (the journal would fail to start for ever, after nas had written its first rows).
    /// </summary>
    public static void RequireWritableDatabase(PostgresUrl url) =>
        PostgresConnections.Query(url, c =>
        {
            var version = Convert.ToInt32(Scalar(c, "SHOW server_version_num"), System.Globalization.CultureInfo.InvariantCulture);
            if (version < 140000) throw new RunStoreException($"PostgreSQL at {url} is version {version / 10000}; nas writes runs on PostgreSQL 14 or later");
            foreach (var (table, columns) in Tables)
            {
                if (!PostgresConnections.HasTable(c, table)) continue;
                using var command = Command(c, "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = @table", ("table", table));
                using var reader = command.ExecuteReader();
                var present = new HashSet<string>();
                while (reader.Read()) present.Add(reader.GetString(0));
                if (columns.FirstOrDefault(col => !present.Contains(col)) is { } missing)
                    throw new RunStoreException($"{url}: its table {table} is not nas's (no column {missing}); give nas a database of its own");
            }
            return 0;
        });
}

/// <summary>Connections to a PostgreSQL database; a server that cannot be reached or refuses us is one line naming it.</summary>
public static class PostgresConnections
{
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

    public static bool HasTable(DbConnection connection, string table) =>
        JournalTables.Scalar(connection, "SELECT to_regclass(@table) IS NOT NULL", ("table", table)) is true;

    public static string Describe(Exception e) => e switch
    {
        PostgresException p => p.MessageText,
        NpgsqlException { InnerException: System.Net.Sockets.SocketException s } => s.Message,
        NpgsqlException { InnerException: TimeoutException } => "timed out",
        _ => e.Message.Split('\n')[0],
    };
}
