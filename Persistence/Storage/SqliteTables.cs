using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace NasActors.Persistence.Storage;

/// <summary>
/// The SQLite files of a run folder (<c>journal.db</c>, <c>snapshots.db</c>), read with no actor
/// system and never blocking the writer; the checks a search runs before it may write; and the
/// checkpoint that folds the write-ahead log back into the files after a clean exit.
/// </summary>
public sealed class SqliteTables(string dir) : JournalTables(PersistenceIds.Folder)
{
    public string JournalPath => Path.Combine(Path.GetFullPath(dir), PersistenceConfig.JournalFile);

    public string SnapshotPath => Path.Combine(Path.GetFullPath(dir), PersistenceConfig.SnapshotFile);

    private string File(StoredTable table) => table == StoredTable.Journal ? JournalPath : SnapshotPath;

    public override string Where(StoredTable table) => File(table);

    protected override bool Present(StoredTable table) => System.IO.File.Exists(File(table));

    protected override bool HasTable(DbConnection connection, StoredTable table) =>
        (long)Scalar(connection, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = @name", ("name", Name(table)))! > 0;

    /// <summary>
    /// Before a search writes to an existing run: both files must be intact SQLite databases, and a
    /// run that has progressed must still have its journal (else it would silently start over).
    /// </summary>
    /// <returns>The run as stored, decoded once for every check that needs it.</returns>
    public StoredRun CheckBeforeResume()
    {
        foreach (var table in new[] { StoredTable.Journal, StoredTable.Snapshot }.Where(Present))
        {
            var result = Query(table, connection => Scalar(connection, "PRAGMA quick_check") as string);
            if (result != "ok") throw new RunStoreException($"{File(table)}: damaged database ({result})");
        }
        // Every stored entry the coordinator will recover from must decode: else it would restart for ever.
        var stored = Read();
        if (!Present(StoredTable.Snapshot)) return stored;
        var hasEvents = Present(StoredTable.Journal) && Count(StoredTable.Journal) > 0;
        if (!hasEvents && (Count(StoredTable.Snapshot) > 0 || !Present(StoredTable.Journal) || new FileInfo(JournalPath).Length == 0))
            throw new RunStoreException($"{JournalPath}: journal missing or empty while the run has other state; refusing to start over (restore the file, or use a new run folder)");
        return stored;
    }

    /// <summary>Folds each file's write-ahead log into the file itself, so that copying the folder's .db files keeps the whole run.</summary>
    public void Checkpoint()
    {
        SqliteConnection.ClearAllPools();
        foreach (var file in new[] { JournalPath, SnapshotPath }.Where(System.IO.File.Exists))
        {
            try
            {
                using var connection = new SqliteConnection($"Data Source={file};Pooling=False");
                connection.Open();
                Execute(connection, "PRAGMA wal_checkpoint(TRUNCATE)");
            }
            catch (SqliteException e)
            {
                throw new RunStoreException($"{file}: the run is stored, but its write-ahead log could not be folded back ({Describe(e)})", e);
            }
        }
    }

    /// <summary>
    /// A read-only connection (never blocks the writer). A folder that cannot be written (no room
    /// for SQLite's shared-memory file) is read as an immutable file instead.
    /// </summary>
    protected override T Query<T>(StoredTable table, Func<DbConnection, T> query)
    {
        var file = File(table);
        try
        {
            return Run(file, readOnly: true, query);
        }
        catch (SqliteException e) when (e.SqliteErrorCode is 14 or 8 && !Writable(Path.GetDirectoryName(file)!))
        {
            return Run(file, readOnly: false, query);
        }
        catch (SqliteException e)
        {
            throw new RunStoreException($"{file}: {Describe(e)}", e);
        }

        static T Run(string file, bool readOnly, Func<DbConnection, T> query)
        {
            var source = readOnly ? $"Data Source={file};Mode=ReadOnly;Pooling=False" : $"Data Source=file:{file}?immutable=1;Mode=ReadOnly;Pooling=False";
            try
            {
                using var connection = new SqliteConnection(source);
                connection.Open();
                return query(connection);
            }
            catch (SqliteException e) when (!readOnly)
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
            System.IO.File.WriteAllText(probe, "");
            System.IO.File.Delete(probe);
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
