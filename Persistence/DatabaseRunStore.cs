using Akka.Configuration;
using NasActors.Persistence.Storage;
using NasActors.Search;

namespace NasActors.Persistence;

/// <summary>
/// A named run in a shared PostgreSQL database: its settings in <c>nas_run</c>, its events and
/// snapshots in Akka.Persistence.Sql's tables under the run's own persistence ids, and one writer
/// at a time through the run's advisory-lock lease (<see cref="PostgresWriterLease"/>).
/// </summary>
public sealed class DatabaseRunStore(PostgresUrl url, string run) : RunStore
{
    private readonly PostgresTables tables = new(url, run);

    public PostgresUrl Url => url;

    public string Run => run;

    public override string Name => $"run {run} in {url}";

    public override string Title => run;

    public override string Key => Name;

    public override string Kind => "postgresql";

    public override bool Shared => true;

    public override PersistenceIds Ids => PersistenceIds.Named(run);

    protected override JournalTables Tables => tables;

    public override (long Journal, long Snapshots) StoredBytes() => tables.StoredBytes();

    public override Config Persistence() => PersistenceConfig.Postgres(url);

    public override SearchSettings? ReadSettings() => tables.Settings() is { } json ? SettingsJson.Parse(json, SettingsName) : null;

    public override SearchSettings? SettingsBeforeWriting()
    {
        PostgresTables.RequireWritableDatabase(url);
        return ReadSettings();
    }

    public override void WriteSettings(SearchSettings settings) => tables.WriteSettings(Serialize(settings));

    /// <summary>
    /// The command's claim (held until it exits), and no live writer: a standby already writing
    /// the run, or a search that claimed it first, is named in one line.
    /// </summary>
    public override IDisposable ClaimForWriting()
    {
        var claim = PostgresWriterLease.Claim(url, run) ?? throw InUse();
        if (!PostgresWriterLease.Held(url, run)) return claim;
        claim.Dispose();
        throw InUse();
    }

    private RunLockedException InUse() =>
        new($"{Name} is in use by another nas process ({PostgresWriterLease.Holder(url, run) ?? "one that is starting"}); a run has one writer");

    public override IWriterLease Lease() => new PostgresWriterLease(url, run, RunLock.Holder);

    public override bool? WriterAlive() => PostgresWriterLease.Held(url, run);

    public override string SettingsName => $"{Name}: stored settings";

    public override string NoRun => $"{Name} does not exist";
}
