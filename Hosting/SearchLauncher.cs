using System.Diagnostics;
using NasActors.Controller.Strategies;
using NasActors.Protocol;
using NasActors.Protocol.Messages;
using NasActors.Persistence;
using NasActors.Search;

namespace NasActors.Hosting;

/// <summary>How a search run by <see cref="SearchLauncher"/> ended.</summary>
public enum SearchEnd
{
    /// <summary>The search and its final training are done and stored.</summary>
    Finished,

    /// <summary>Stopped (Ctrl-C, SIGTERM): the run resumes where it stopped.</summary>
    Interrupted,

    /// <summary>The cluster joined serves another run: this search did nothing.</summary>
    OtherRun,

    /// <summary>The cluster removed this node (a partition): it stopped writing; a standby carries on, or the run resumes.</summary>
    Removed,
}

/// <summary>The end, and the last status seen (null: none came).</summary>
public sealed record SearchOutcome(SearchEnd End, SearchStatus? Status);

/// <summary>
/// A search about to run on a run it has claimed: its stored settings, the file and the caller's
/// changes layered over them and checked (settings, what a resume may change, devices and
/// datasets, every stored entry it will recover from), all before anything is written. Then it
/// writes the settings, runs the node, follows it and says how it ended.
/// </summary>
public sealed class SearchLauncher : IDisposable
{
    private static readonly TimeSpan NobodyTrains = TimeSpan.FromSeconds(30);

    private readonly IDisposable claim;
    private readonly ClusterSpec cluster;
    private SearchNode? node;

    private SearchLauncher(RunStore store, ClusterSpec cluster, IDisposable claim, SearchSettings? existing, SearchSettings settings)
    {
        Store = store;
        this.cluster = cluster;
        this.claim = claim;
        Existing = existing;
        Settings = settings;
    }

    public RunStore Store { get; }

    /// <summary>The run's stored settings (null: a new run).</summary>
    public SearchSettings? Existing { get; }

    /// <summary>The settings the search runs with.</summary>
    public SearchSettings Settings { get; }

    /// <summary>A search runs the coordinator and the evaluator; without the trainer role, it must be a seed that trainer nodes can reach.</summary>
    public static void RequireRoles(ClusterSpec cluster)
    {
        if (!cluster.Has(ClusterSpec.Coordinator) || !cluster.Has(ClusterSpec.Evaluator))
            throw new InputException(NodeInputs.Roles, "nas search runs the coordinator and the evaluator (add trainer to train here too; trainer nodes join with nas node)");
        // Without the trainer role only trainer nodes train, and they can only reach a seed at a known address.
        if (!cluster.Has(ClusterSpec.Trainer) && cluster.Seeds.Count == 0)
            throw new InputException(NodeInputs.Roles, "without trainer, this search trains nothing itself: give it a port and seeds (its own HOST:PORT first) so that nas node can join it");
    }

    /// <param name="configFile">A settings file that replaces the stored settings (keys as in run.json).</param>
    /// <param name="change">The caller's changes over the settings (the options given).</param>
    /// <param name="datasetGiven">Whether the caller named a dataset (the synthetic trainer refuses one).</param>
    public static SearchLauncher Prepare(RunStore store, ClusterSpec cluster, string? configFile, Func<SearchSettings, SearchSettings> change, bool datasetGiven)
    {
        // First of all: one writer per run, also when two searches start together on a new one.
        var claim = store.ClaimForWriting();
        try
        {
            var existing = store.SettingsBeforeWriting();
            // Keys a settings file leaves out keep the run's own values on resume, a new search's defaults otherwise.
            var settings = configFile is not null ? SettingsJson.Read(configFile, existing) : existing ?? SearchSettings.NewSearch;
            // A settings file that is wrong by itself is named, before the changes are layered over it.
            if ((configFile is not null || existing is not null) && settings.Errors(StrategyCatalog.Names) is { Count: > 0 } wrong)
                throw new InvalidRunException($"{configFile ?? store.SettingsName}: {string.Join("; ", wrong)}");
            settings = change(settings);
            if (existing is null) settings = settings.WithDefaultsStored();
            if (settings.Errors(StrategyCatalog.Names) is { Count: > 0 } errors) throw new InputException(string.Join("; ", errors));
            if (existing?.Incompatibility(settings) is { } why) throw new InputException($"cannot resume {store.Name}: {why}");
            if (cluster.Has(ClusterSpec.Trainer))
            {
                var trainer = Preflight.Trainer(settings.Trainer);
                Preflight.Devices(settings.Devices);
                Preflight.Kernels(trainer, settings.Devices);
                Preflight.Datasets(trainer, settings, datasetGiven);
            }
            if (existing is not null) CheckBeforeResume(store, settings);
            return new SearchLauncher(store, cluster, claim, existing, settings);
        }
        catch
        {
            claim.Dispose();
            throw;
        }
    }

    /// <summary>The run's files, and the strategy state in its latest snapshot, must be readable before a resume writes.</summary>
    private static void CheckBeforeResume(RunStore store, SearchSettings settings)
    {
        var (state, snapshot) = store.CheckBeforeResume();
        // The journal, not the stored settings, is the record of how the run was started.
        if (state.Settings is { } stored && (stored with { Budget = state.Budget }).Incompatibility(settings) is { } why)
            throw new InputException($"cannot resume {store.Name}: its journal disagrees with {store.SettingsName} and the options: {why}");
        if (snapshot is null) return;
        try
        {
            StrategyCatalog.ForSearch(settings, snapshot.StrategyState).Dispose();
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or ArgumentException or IOException or System.Runtime.InteropServices.ExternalException)
        {
            throw new RunStoreException($"{store.SnapshotsName}: the {settings.Strategy} strategy's state in the latest snapshot is unreadable ({e.Message.Split('\n')[0]})");
        }
    }

    /// <summary>
    /// Runs the search until it is finished, stopped or this node is removed: the settings are
    /// written first (a new run, or a grown budget; a resume that fails never touches them).
    /// </summary>
    /// <param name="seen">Each status as it comes (about twice a second).</param>
    /// <param name="say">A line for the user (a search that waits for trainers says so once).</param>
    public async Task<SearchOutcome> RunAsync(Action<SearchStatus> seen, Action<string> say, CancellationToken cancel)
    {
        // New time limits are stored at once; a finished run journals them when it is taken up again (a grown budget).
        if (Existing is null || Existing.Budget != Settings.Budget || Existing.Timeouts != Settings.Timeouts) Store.WriteSettings(Settings);
        SearchStatus? status;
        bool removed;
        await using (var started = await SearchNode.StartAsync(Store, Settings, cancel, cluster: cluster))
        {
            node = started;
            status = await Follow(started, seen, say, cancel);
            node = null;
            removed = started.System.WhenTerminated.IsCompleted && !cancel.IsCancellationRequested;
        }
        Store.AfterStop();
        if (cancel.IsCancellationRequested) return new(SearchEnd.Interrupted, status);
        if (status is { } s && s.Run != Store.Ids.CoordinatorId) return new(SearchEnd.OtherRun, status);
        return new(removed ? SearchEnd.Removed : SearchEnd.Finished, status);
    }

    /// <summary>Epochs of the children in training, while the search runs here (the dashboard beside it).</summary>
    public async Task<IReadOnlyDictionary<long, (int Epoch, int Epochs)>> ProgressAsync() =>
        (node is { } n ? await n.StatusAsync() : null)?.RunningChildren.Where(r => r.Epochs > 0).ToDictionary(r => r.ChildId, r => (r.Epoch, r.Epochs))
        ?? new Dictionary<long, (int, int)>();

    /// <summary>
    /// Asks the coordinator (wherever the singleton runs: it may be another node's) until the run
    /// is finished, this node stops, or the cluster turns out to serve another run.
    /// </summary>
    private async Task<SearchStatus?> Follow(SearchNode started, Action<SearchStatus> seen, Action<string> say, CancellationToken cancel)
    {
        SearchStatus? status = null;
        var lastTraining = Stopwatch.StartNew();
        var idleSaid = false;
        while (!cancel.IsCancellationRequested && !started.System.WhenTerminated.IsCompleted)
        {
            if (await started.StatusAsync() is { } now)
            {
                status = now;
                seen(now);
                if (now.Finished || now.Run != Store.Ids.CoordinatorId) return now;
                if (now.RunningChildren.Count > 0) lastTraining.Restart();
            }
            if (!idleSaid && lastTraining.Elapsed > NobodyTrains)
            {
                idleSaid = true;
                say($"no child has been in training for {NobodyTrains.TotalSeconds:F0} s: waiting for trainers (nas node --join this node)");
            }
            await Task.Delay(500, cancel).ContinueWith(_ => { });
        }
        return status;
    }

    public void Dispose() => claim.Dispose();
}
