using Akka.Configuration;
using NasActors.Persistence.Storage;
using NasActors.Search;

namespace NasActors.Persistence;

/// <summary>A run in a folder: run.json, SQLite journal and snapshots, node.log; one writer per folder (<see cref="RunLock"/>).</summary>
public sealed class FolderRunStore(string dir) : RunStore
{
    private readonly SqliteTables tables = new(dir);

    public string Directory => dir;

    public override string Name => dir;

    public override string Title => Path.GetFileName(Path.GetFullPath(dir));

    public override string Key => Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir));

    public override string Kind => "sqlite";

    public override string? LogFile => Path.Combine(Path.GetFullPath(dir), "node.log");

    public override bool Shared => false;

    public override PersistenceIds Ids => PersistenceIds.Folder;

    protected override JournalTables Tables => tables;

    public override string NoSearchYet =>
        !File.Exists(tables.JournalPath) || new FileInfo(tables.JournalPath).Length == 0
            ? $"{tables.JournalPath}: missing or empty (a search that never started, or a lost journal)"
            : base.NoSearchYet;

    public override (long Journal, long Snapshots) StoredBytes() =>
        (Bytes(PersistenceConfig.JournalFile), Bytes(PersistenceConfig.SnapshotFile));

    private long Bytes(string file) => System.IO.Directory.GetFiles(dir, file + "*").Sum(f => new FileInfo(f).Length);

    public override Config Persistence() => PersistenceConfig.Sqlite(dir);

    public override SearchSettings? ReadSettings() => RunFolder.Existing(dir, forWriting: false);

    public override SearchSettings? SettingsBeforeWriting() => RunFolder.Existing(dir, forWriting: true);

    public override void WriteSettings(SearchSettings settings) => RunFolder.WriteSettings(dir, settings);

    public override IDisposable ClaimForWriting() => RunLock.Acquire(dir);

    /// <summary>The folder's lock is the process's (taken by <see cref="ClaimForWriting"/>): the coordinator's host has it already.</summary>
    public override IWriterLease Lease() => new ProcessLease();

    public override StoredRun CheckBeforeResume() => tables.CheckBeforeResume();

    public override bool? WriterAlive() => RunLock.WriterAlive(dir);

    public override string SettingsName => Path.Combine(dir, RunFolder.SettingsFile);

    public override void AfterStop() => tables.Checkpoint();

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
