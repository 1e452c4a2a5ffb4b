using Akka.Configuration;
using NasActors.Runs;
using NasActors.Search;

namespace NasActors.Runs;

/// <summary>A run in a folder: run.json, SQLite journal and snapshots, node.log; one writer per folder (<see cref="RunLock"/>).</summary>
public sealed class FolderRunStore(string dir) : RunStore
{
    public string Directory => dir;

    public override string Name => dir;

    public override string Title => Path.GetFileName(Path.GetFullPath(dir));

    public override string Key => Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir));

    public override string Kind => "sqlite";

    public override string? LogFile => Path.Combine(Path.GetFullPath(dir), "node.log");

    public override bool Shared => false;

    public override string NoSearchYet
    {
        get
        {
            var journal = SqliteRunFiles.JournalPath(dir);
            return !File.Exists(journal) || new FileInfo(journal).Length == 0
                ? $"{journal}: missing or empty (a search that never started, or a lost journal)"
                : base.NoSearchYet;
        }
    }

    public override IReadOnlyList<string> Arguments => ["--run", dir];

    public override (long Journal, long Snapshots) StoredBytes() =>
        (Bytes(PersistenceConfig.JournalFile), Bytes(PersistenceConfig.SnapshotFile));

    private long Bytes(string file) => System.IO.Directory.GetFiles(dir, file + "*").Sum(f => new FileInfo(f).Length);

    public override SearchJournal Ids => SearchJournal.Folder;

    public override Config Persistence() => PersistenceConfig.Sqlite(dir);

    public override SearchSettings? Existing(bool forWriting = true) => RunFolder.Existing(dir, forWriting);

    public override void WriteSettings(SearchSettings settings) => RunFolder.WriteSettings(dir, settings);

    public override IDisposable ClaimForWriting() => RunLock.Acquire(dir);

    /// <summary>The folder's lock is the process's (taken by <see cref="ClaimForWriting"/>): the coordinator's host has it already.</summary>
    public override IWriterLease Lease() => new ProcessLease();

    public override IReadOnlyList<StoredEvent> ReadStoredEvents(long after = 0) => SqliteRunFiles.ReadStoredEvents(dir, after);

    public override StoredRun Read() => SqliteRunFiles.Read(dir);

    public override DateTimeOffset? FirstEventAt() => SqliteRunFiles.FirstEventAt(dir);

    public override StoredRun CheckBeforeResume() => SqliteRunFiles.CheckBeforeResume(dir);

    public override bool? WriterAlive() => RunLock.WriterAlive(dir);

    public override string SettingsName => Path.Combine(dir, RunFolder.SettingsFile);

    public override string SnapshotsName => SqliteRunFiles.SnapshotPath(dir);

    public override void AfterStop() => SqliteRunFiles.Checkpoint(dir);

    private sealed class ProcessLease : IWriterLease
    {
        public string? TryAcquire() => null;

        public bool StillHeld() => true;

        public void Release()
        {
        }

        public void Dispose()
        {
        }
    }
}
