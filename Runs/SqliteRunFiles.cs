using Microsoft.Data.Sqlite;
using NasActors.Search;
using NasActors.Search.Events;

namespace NasActors.Runs;

/// <summary>
/// The SQLite files of a run folder, read straight from disk (tables of Akka.Persistence.Sql), with
/// no actor system: the search state from the latest snapshot plus the events after it, which is
/// what makes status instant; the checks a search runs before it may write; and the checkpoint
/// that folds the write-ahead log back into the database files after a clean exit.
/// </summary>
public static class SqliteRunFiles
{
    public static string JournalPath(string dir) => Path.Combine(Path.GetFullPath(dir), PersistenceConfig.JournalFile);

    public static string SnapshotPath(string dir) => Path.Combine(Path.GetFullPath(dir), PersistenceConfig.SnapshotFile);

    /// <summary>The search state: the coordinator's latest snapshot and the events after it.</summary>
    public static SearchState ReadState(string dir) => Read(dir).State;

    /// <summary>The run as stored: its state and the latest snapshot it was folded from.</summary>
    public static StoredRun Read(string dir)
    {
        var latest = LatestSnapshot(dir);
        return new(SearchState.Fold(ReadEvents(dir, latest?.SequenceNr ?? 0), latest?.State), latest?.Snapshot);
    }

    /// <summary>The coordinator's events after sequence number <paramref name="after"/>, in order.</summary>
    public static IReadOnlyList<ISearchEvent> ReadEvents(string dir, long after = 0) => [.. ReadStoredEvents(dir, after).Select(e => e.Event)];

    /// <summary>The coordinator's journal entries after sequence number <paramref name="after"/>, with their write times (reports, dashboards).</summary>
    public static IReadOnlyList<StoredEvent> ReadStoredEvents(string dir, long after = 0)
    {
        var file = JournalPath(dir);
        if (!File.Exists(file)) return [];
        return Query(file, connection =>
        {
            if (!HasTable(connection, "journal")) return [];
            using var command = connection.CreateCommand();
            // created: UTC ticks, as Akka.Persistence.Sql writes them.
            command.CommandText = "SELECT sequence_number, manifest, message, created FROM journal WHERE persistence_id = $id AND sequence_number > $after AND deleted = 0 ORDER BY sequence_number";
            command.Parameters.AddWithValue("$id", SearchJournal.Folder.CoordinatorId);
            command.Parameters.AddWithValue("$after", after);
            using var reader = command.ExecuteReader();
            return StoredEntries.Events(reader, file);
        });
    }

    /// <summary>When the run's first event was written: a journal replaced by another run's has another (null: none yet).</summary>
    public static DateTimeOffset? FirstEventAt(string dir)
    {
        var file = JournalPath(dir);
        if (!File.Exists(file)) throw new RunStoreException($"{file}: the run's journal is gone");
        return Query(file, connection =>
        {
            if (!HasTable(connection, "journal")) return (DateTimeOffset?)null;
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT created FROM journal WHERE persistence_id = $id AND sequence_number = 1";
            command.Parameters.AddWithValue("$id", SearchJournal.Folder.CoordinatorId);
            return command.ExecuteScalar() is long ticks ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;
        });
    }

    /// <summary>The sequence number the coordinator's latest snapshot was taken at, or null when it has none.</summary>
    public static long? LatestSnapshotSequenceNr(string dir) => LatestSnapshot(dir)?.SequenceNr;

    private static (long SequenceNr, Snapshots.ISearchSnapshot Snapshot, SearchState State)? LatestSnapshot(string dir)
    {
        var file = SnapshotPath(dir);
        if (!File.Exists(file)) return null;
        return Query<(long, Snapshots.ISearchSnapshot, SearchState)?>(file, connection =>
        {
            if (!HasTable(connection, "snapshot")) return null;
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT sequence_number, manifest, snapshot FROM snapshot WHERE persistence_id = $id ORDER BY sequence_number DESC LIMIT 1";
            command.Parameters.AddWithValue("$id", SearchJournal.Folder.CoordinatorId);
            using var reader = command.ExecuteReader();
            return StoredEntries.Snapshot(reader, file);
        });
    }

    /// <summary>
    /// Before a search writes to an existing run: both files must be intact SQLite databases, and a
    /// run that has progressed must still have its journal (else it would silently start over).
    /// </summary>
    /// <returns>The run as stored, decoded once for every check that needs it.</returns>
    public static StoredRun CheckBeforeResume(string dir)
    {
        var journal = JournalPath(dir);
        var snapshots = SnapshotPath(dir);
        foreach (var file in new[] { journal, snapshots }.Where(File.Exists))
            Query(file, connection =>
            {
                using var command = connection.CreateCommand();
                command.CommandText = "PRAGMA quick_check";
                var result = command.ExecuteScalar() as string;
                return result == "ok" ? 0 : throw new RunStoreException($"{file}: damaged database ({result})");
            });
        // Every stored entry the coordinator will recover from must decode: else it would restart for ever.
        var stored = Read(dir);
        if (!File.Exists(snapshots)) return stored;
        var hasEvents = File.Exists(journal) && Query(journal, c => HasTable(c, "journal") && Count(c, "journal") > 0);
        var progressed = Query(snapshots, c => HasTable(c, "snapshot") && Count(c, "snapshot") > 0);
        if (!hasEvents && (progressed || !File.Exists(journal) || new FileInfo(journal).Length == 0))
            throw new RunStoreException($"{journal}: journal missing or empty while the run has other state; refusing to start over (restore the file, or use a new run folder)");
        return stored;
    }

    /// <summary>Folds each file's write-ahead log into the file itself, so that copying the folder's .db files keeps the whole run.</summary>
    public static void Checkpoint(string dir)
    {
        SqliteConnection.ClearAllPools();
        foreach (var file in new[] { JournalPath(dir), SnapshotPath(dir) }.Where(File.Exists))
        {
            try
            {
                using var connection = new SqliteConnection($"Data Source={file};Pooling=False");
                connection.Open();
                using var command = connection.CreateCommand();
                command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
                command.ExecuteNonQuery();
            }
            catch (SqliteException e)
            {
                throw new RunStoreException($"{file}: the run is stored, but its write-ahead log could not be folded back ({Describe(e)})", e);
            }
        }
    }

    private static long Count(SqliteConnection connection, string table)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT COUNT(*) FROM {table}";
        return (long)command.ExecuteScalar()!;
    }

    private static bool HasTable(SqliteConnection connection, string table)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $name";
        command.Parameters.AddWithValue("$name", table);
        return (long)command.ExecuteScalar()! > 0;
    }

    /// <summary>
    /// Runs a query on a read-only connection (never blocks the writer). A folder that cannot be
    /// written (no room for SQLite's shared-memory file) is read as an immutable file instead.
    /// </summary>
    private static T Query<T>(string file, Func<SqliteConnection, T> query)
    {
        try
        {
            return Run(file, ReadOnly: true, query);
        }
        catch (SqliteException e) when (e.SqliteErrorCode is 14 or 8 && !Writable(Path.GetDirectoryName(file)!))
        {
            return Run(file, ReadOnly: false, query);
        }
        catch (SqliteException e)
        {
            throw new RunStoreException($"{file}: {Describe(e)}", e);
        }

        static T Run(string file, bool ReadOnly, Func<SqliteConnection, T> query)
        {
            var source = ReadOnly ? $"Data Source={file};Mode=ReadOnly;Pooling=False" : $"Data Source=file:{file}?immutable=1;Mode=ReadOnly;Pooling=False";
            try
            {
                using var connection = new SqliteConnection(source);
                connection.Open();
                return query(connection);
            }
            catch (SqliteException e) when (!ReadOnly)
            {
                throw new RunStoreException($"{file}: {Describe(e)}", e);
            }
        }
    }

    private static bool Writable(string dir)
    {
        try
        {
            var probe = Path.Combine(dir, $".nas-write-probe-{Environment.ProcessId}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static string Describe(SqliteException e) => e.SqliteErrorCode switch
    {
        26 => "not a SQLite database (overwritten or truncated?)",
        11 => "damaged database (database disk image is malformed)",
        14 => "cannot open the file (missing, or no permission)",
        _ => e.Message.Replace("SQLite Error ", "SQLite error ").Split('\n')[0],
    };
}
