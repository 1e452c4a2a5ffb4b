using Akka.Configuration;
using Akka.Persistence.Sql;

namespace NasActors.Persistence;

/// <summary>
/// Journal, snapshot store and read journal configuration (Akka.Persistence.Sql). The default is
/// one run per folder on embedded SQLite, journal and snapshots in separate files (SQLite allows
/// one writer; the journal writes one at a time). A cluster of machines shares a PostgreSQL
/// database instead, many runs in one set of tables, each run under its own persistence ids.
/// </summary>
public static class PersistenceConfig
{
    public const string JournalFile = "journal.db";
    public const string SnapshotFile = "snapshots.db";

    public static Config Sqlite(string runDirectory)
    {
        var dir = Path.GetFullPath(runDirectory);
        UseWriteAheadLog(Path.Combine(dir, JournalFile));
        UseWriteAheadLog(Path.Combine(dir, SnapshotFile));
        return Build(
            $"Data Source={Path.Combine(dir, JournalFile)}",
            $"Data Source={Path.Combine(dir, SnapshotFile)}",
            "SQLite.MS", parallelism: 1,
            query: $"Data Source={Path.Combine(dir, JournalFile)};Mode=ReadOnly");
    }

    public static Config Postgres(PostgresUrl url) =>
        Build(url.ConnectionString, url.ConnectionString, "PostgreSQL.15", parallelism: 4);

    /// <summary>
    /// Write-ahead logging (a setting stored in the database file): a commit costs one append
    /// instead of rewriting pages, and readers (nas status, top, the evaluator's stream) never
    /// block the writer. A killed process loses nothing that was committed.
    /// </summary>
    private static void UseWriteAheadLog(string file)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={file};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode=WAL;";
        command.ExecuteNonQuery();
    }

    private static Config Build(string journal, string snapshots, string provider, int parallelism, string? query = null) =>
        ConfigurationFactory.ParseString($$"""
            akka.persistence {
              journal {
                plugin = "akka.persistence.journal.sql"
                sql {
                  class = "Akka.Persistence.Sql.Journal.SqlWriteJournal, Akka.Persistence.Sql"
                  connection-string = "{{Escape(journal)}}"
                  provider-name = "{{provider}}"
                  auto-initialize = on
                  parallelism = {{parallelism}}
                }
              }
              snapshot-store {
                plugin = "akka.persistence.snapshot-store.sql"
                sql {
                  class = "Akka.Persistence.Sql.Snapshot.SqlSnapshotStore, Akka.Persistence.Sql"
                  connection-string = "{{Escape(snapshots)}}"
                  provider-name = "{{provider}}"
                  auto-initialize = on
                }
              }
              query.journal.sql {
                class = "Akka.Persistence.Sql.Query.SqlReadJournalProvider, Akka.Persistence.Sql"
                connection-string = "{{Escape(query ?? journal)}}"
                provider-name = "{{provider}}"
                refresh-interval = 100ms
              }
            }
            """).WithFallback(SqlPersistence.DefaultConfiguration);

    private static string Escape(string s) => s.Replace("\\", "\\\\").Replace("\"", "\\\"");
}
