using System.Runtime.ExceptionServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using Akka.Configuration;
using NasActors.Protocol;
using NasActors.Persistence.Storage;
using NasActors.Search;
using NasActors.Search.Events;

namespace NasActors.Persistence;

/// <summary>
/// Where a run is stored: a folder with SQLite files (the embedded default) or a named run in a
/// shared PostgreSQL database. Every command that reads or writes a run goes through this, so
/// each command takes both forms: its settings, its journal read with no actor system (one
/// reader over either database, <see cref="JournalTables"/>), Akka.Persistence's configuration
/// for writing it, and who may write it (a command's claim, the coordinator's lease).
/// </summary>
public abstract partial class RunStore
{
    /// <summary>The run as messages name it.</summary>
    public abstract string Name { get; }

    /// <summary>A short title (reports, dashboards).</summary>
    public abstract string Title { get; }

    /// <summary>What identifies the run (two stores with one key are the same run).</summary>
    public abstract string Key { get; }

    /// <summary>The store's kind, for figures: <c>sqlite</c> or <c>postgresql</c>.</summary>
    public abstract string Kind { get; }

    /// <summary>Where a node writing this run logs (null: stderr).</summary>
    public virtual string? LogFile => null;

    /// <summary>Whether another machine can carry the run on (a standby coordinator reaches the same store).</summary>
    public abstract bool Shared { get; }

    public abstract PersistenceIds Ids { get; }

    /// <summary>The run's journal and snapshot tables.</summary>
    protected abstract JournalTables Tables { get; }

    /// <summary>Bytes the run takes in its store: the coordinator's journal, and the snapshots.</summary>
    public abstract (long Journal, long Snapshots) StoredBytes();

    /// <summary>Akka.Persistence's configuration for writing this run.</summary>
    public abstract Config Persistence();

    /// <summary>The run's stored settings; null when there is no such run yet.</summary>
    public abstract SearchSettings? ReadSettings();

    /// <summary>
    /// Before a command writes the run: the store must be one nas can write (a folder of its own, a
    /// database without another program's tables); then the stored settings, null for a new run.
    /// </summary>
    public abstract SearchSettings? SettingsBeforeWriting();

    public SearchSettings RequireSettings() => ReadSettings() ?? throw new InvalidRunException(NoRun);

    /// <summary>What a reader is told when the run exists but its journal holds no started search.</summary>
    public virtual string NoSearchYet => $"{Name}: the journal holds no started search yet";

    /// <summary>What a reader is told when there is no such run.</summary>
    public virtual string NoRun => $"{Name} holds no nas run";

    public abstract void WriteSettings(SearchSettings settings);

    /// <summary>
    /// The command's own claim on the run before it writes anything: one line naming the other
    /// writer when a live process has it.
    /// </summary>
    public abstract IDisposable ClaimForWriting();

    /// <summary>A new lease for the coordinator singleton's host, held while it writes.</summary>
    public abstract IWriterLease Lease();

    /// <summary>Whether a search writes the run now (null: cannot tell from here).</summary>
    public abstract bool? WriterAlive();

    /// <summary>The coordinator's journal entries after sequence number <paramref name="after"/>, with their write times.</summary>
    public IReadOnlyList<StoredEvent> ReadStoredEvents(long after = 0) => Tables.ReadStoredEvents(after);

    public IReadOnlyList<ISearchEvent> ReadEvents(long after = 0) => [.. ReadStoredEvents(after).Select(e => e.Event)];

    /// <summary>The run as stored: its state from the latest snapshot and the events after it.</summary>
    public StoredRun Read() => Tables.Read();

    public SearchState ReadState() => Read().State;

    /// <summary>The sequence number of the coordinator's latest snapshot (null: none).</summary>
    public long? LatestSnapshotSequenceNr() => Tables.LatestSnapshot()?.SequenceNr;

    /// <summary>When the run's first event was written: a journal replaced by another run's has another (null: none yet).</summary>
    public DateTimeOffset? FirstEventAt() => Tables.FirstEventAt();

    public DateTimeOffset? LastEventAt() => Tables.LastEventAt();

    /// <summary>The state of a started search (works while a search writes it); no run or no started search is one line.</summary>
    public SearchState ReadStarted()
    {
        // The settings are read beside the journal, not before it: a large run's snapshot is most of
        // a status, and the two share no work (bench/RESULTS.md, "Reading a run"); then a small
        // snapshot is decoded there, so that the large one's code is compiled by the time it is
        // read. A problem with the settings (no run at all) is still the one said.
        var settings = Task.Run(() =>
        {
            var known = RequireSettings();
            try
            {
                Snapshots.SearchSnapshot.Rehearse(known);
            }
            catch (Exception)
            {
                // Only a warm-up: the run's own read says what is wrong, if anything is.
            }
        });
        ExceptionDispatchInfo? unreadable = null;
        SearchState? state = null;
        try
        {
            state = ReadState();
        }
        catch (Exception e)
        {
            unreadable = ExceptionDispatchInfo.Capture(e);
        }
        settings.GetAwaiter().GetResult();
        unreadable?.Throw();
        return state!.Settings is not null ? state : throw new RunStoreException(NoSearchYet);
    }

    /// <summary>A started search's whole journal with write times (reports, dashboards).</summary>
    public IReadOnlyList<StoredEvent> ReadJournal()
    {
        RequireSettings();
        var events = ReadStoredEvents();
        return events.Count > 0 && events[0].Event is SearchStarted ? events : throw new RunStoreException(NoSearchYet);
    }

    /// <summary>Before a search writes to an existing run: everything it will recover from must be readable.</summary>
    public virtual StoredRun CheckBeforeResume() => Read();

    /// <summary>Where the run's settings are, for messages.</summary>
    public abstract string SettingsName { get; }

    /// <summary>Where the coordinator's journal is, for messages.</summary>
    public string JournalName => Tables.Where(StoredTable.Journal);

    /// <summary>Where the coordinator's snapshots are, for messages.</summary>
    public string SnapshotsName => Tables.Where(StoredTable.Snapshot);

    /// <summary>After a clean stop: leaves the run complete in its store (SQLite: folds the write-ahead log back).</summary>
    public virtual void AfterStop()
    {
    }

    /// <summary>A folder (no database given), or the run of that name in the PostgreSQL database at <paramref name="journal"/>.</summary>
    public static RunStore Open(string? run, string? journal)
    {
        if (journal is null)
        {
            if (string.IsNullOrWhiteSpace(run)) throw new InputException(RunInputs.Run, "give a folder");
            return new FolderRunStore(run);
        }
        var url = PostgresUrl.Parse(journal);
        if (string.IsNullOrWhiteSpace(run) || !RunName().IsMatch(run))
            throw new InputException(RunInputs.Run, $"with a database, give the run's name (letters, digits, '.', '_', '-'; at most 64), not '{run}'");
        return new DatabaseRunStore(url, run);
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex RunName();

    protected static string Serialize(SearchSettings settings) => JsonSerializer.Serialize(settings, SettingsJson.Options);
}
