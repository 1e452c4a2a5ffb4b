using System.Data.Common;
using NasActors.Persistence.Snapshots;
using NasActors.Search;

namespace NasActors.Persistence.Storage;

/// <summary>Which of Akka.Persistence.Sql's tables a read goes to (a folder keeps each in a file of its own).</summary>
public enum StoredTable
{
    Journal,
    Snapshot,
}

/// <summary>
/// A run's journal and snapshot tables (Akka.Persistence.Sql's schema) read straight from the
/// database with no actor system: the events after a sequence number, the latest snapshot, the
/// state folded from both. One reader for every database: the SQL is the same on SQLite and
/// PostgreSQL; a database only says how it connects, where a table is, and whether it has one.
/// </summary>
public abstract class JournalTables(PersistenceIds ids)
{
    /// <summary>Where a table is, for messages (a file, or a run in a database).</summary>
    public abstract string Where(StoredTable table);

    /// <summary>Whether the table's database is there at all (a folder's file may be missing).</summary>
    protected virtual bool Present(StoredTable table) => true;

    /// <summary>Runs <paramref name="query"/> on a connection to the table's database; a database failure is one line naming it.</summary>
    protected abstract T Query<T>(StoredTable table, Func<DbConnection, T> query);

    protected abstract bool HasTable(DbConnection connection, StoredTable table);

    /// <summary>The run as stored: its state from the latest snapshot and the events after it.</summary>
    public StoredRun Read()
    {
        var latest = LatestSnapshot();
        return new(StoredEvent.Fold(Where(StoredTable.Journal), ReadStoredEvents(latest?.SequenceNr ?? 0), latest?.State), latest?.Snapshot);
    }

    /// <summary>The coordinator's journal entries after sequence number <paramref name="after"/>, in order, with their write times.</summary>
    public IReadOnlyList<StoredEvent> ReadStoredEvents(long after = 0)
    {
        if (!Present(StoredTable.Journal)) return [];
        return Query(StoredTable.Journal, connection =>
        {
            if (!HasTable(connection, StoredTable.Journal)) return [];
            using var command = Command(connection,
                "SELECT sequence_number, manifest, message, created FROM journal WHERE persistence_id = @id AND sequence_number > @after AND NOT deleted ORDER BY sequence_number",
                ("id", ids.CoordinatorId), ("after", after));
            using var reader = command.ExecuteReader();
            return StoredEntries.Events(reader, Where(StoredTable.Journal));
        });
    }

    /// <summary>When the run's first event was written: a journal replaced by another run's has another (null: none yet).</summary>
    public DateTimeOffset? FirstEventAt()
    {
        if (!Present(StoredTable.Journal)) throw new RunStoreException($"{Where(StoredTable.Journal)}: the run's journal is gone");
        return Query(StoredTable.Journal, connection => HasTable(connection, StoredTable.Journal)
            && Scalar(connection, "SELECT created FROM journal WHERE persistence_id = @id AND sequence_number = 1", ("id", ids.CoordinatorId)) is long ticks
                ? new DateTimeOffset(ticks, TimeSpan.Zero)
                : (DateTimeOffset?)null);
    }

    /// <summary>When the run's latest event was written (null: none yet).</summary>
    public DateTimeOffset? LastEventAt()
    {
        if (!Present(StoredTable.Journal)) return null;
        return Query(StoredTable.Journal, connection => !HasTable(connection, StoredTable.Journal)
            ? null
            : Scalar(connection, "SELECT created FROM journal WHERE persistence_id = @id ORDER BY sequence_number DESC LIMIT 1", ("id", ids.CoordinatorId)) switch
            {
                long ticks => new DateTimeOffset(ticks, TimeSpan.Zero),
                DateTime at => new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)),
                _ => (DateTimeOffset?)null,
            });
    }

    /// <summary>The coordinator's latest snapshot with the state it holds, or null when it has none.</summary>
    public (long SequenceNr, ISearchSnapshot Snapshot, SearchState State)? LatestSnapshot()
    {
        if (!Present(StoredTable.Snapshot)) return null;
        return Query(StoredTable.Snapshot, connection =>
        {
            if (!HasTable(connection, StoredTable.Snapshot)) return null;
            using var command = Command(connection, "SELECT sequence_number, manifest, snapshot FROM snapshot WHERE persistence_id = @id ORDER BY sequence_number DESC LIMIT 1",
                ("id", ids.CoordinatorId));
            using var reader = command.ExecuteReader();
            return StoredEntries.Snapshot(reader, Where(StoredTable.Snapshot));
        });
    }

    /// <summary>How many rows a table holds (all runs').</summary>
    protected long Count(StoredTable table) =>
        Query(table, c => HasTable(c, table) ? Convert.ToInt64(Scalar(c, $"SELECT COUNT(*) FROM {Name(table)}"), System.Globalization.CultureInfo.InvariantCulture) : 0);

    protected static string Name(StoredTable table) => table == StoredTable.Journal ? "journal" : "snapshot";

    public static object? Scalar(DbConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        using var command = Command(connection, sql, parameters);
        return command.ExecuteScalar();
    }

    public static void Execute(DbConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        using var command = Command(connection, sql, parameters);
        command.ExecuteNonQuery();
    }

    /// <summary>A command with named parameters, written <c>@name</c> in <paramref name="sql"/> (both SQLite and PostgreSQL read that form).</summary>
    public static DbCommand Command(DbConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = "@" + name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }
        return command;
    }
}
