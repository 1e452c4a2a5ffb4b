using System.CommandLine;
using NasActors.Node.Hosting;
using NasActors.Persistence;
using NasActors.Persistence.Events;

namespace NasActors.Node.Commands;

/// <summary>
/// <c>--run</c> and <c>--journal</c>, which name a run in every command (a folder, or a run's name in
/// a PostgreSQL database), and how the read commands read it: no actor system, no lock.
/// </summary>
public sealed class RunOption
{
    public const string JournalHelp = "PostgreSQL database of a cluster's runs, postgresql://USER@HOST[:PORT]/DATABASE "
        + "(password from PGPASSWORD or ~/.pgpass); --run is then the run's name. Without it, --run is a folder";

    private readonly Option<string>? one;
    private readonly Option<string[]>? many;

    public RunOption(bool many = false)
    {
        if (many)
            this.many = new("--run") { Description = "run folder (or name, with --journal); give several to compare them", Required = true, Arity = ArgumentArity.OneOrMore };
        else
            one = new("--run") { Description = "run folder (or the run's name, with --journal)", Required = true };
    }

    public Option<string?> Journal { get; } = new("--journal") { Description = JournalHelp };

    public void AddTo(Command command)
    {
        command.Options.Add((Option?)one ?? many!);
        command.Options.Add(Journal);
    }

    /// <summary>The one run named (commands that take one).</summary>
    public RunStore Open(ParseResult parse) => OpenAll(parse)[0];

    public IReadOnlyList<RunStore> OpenAll(ParseResult parse) =>
        [.. (one is null ? parse.GetValue(many!)! : [parse.GetValue(one)!]).Select(r => RunStore.Open(r, parse.GetValue(Journal)))];

    /// <summary>The run's state from its latest snapshot and the events after it (works while a search writes it).</summary>
    public static SearchState ReadState(RunStore store)
    {
        store.Require();
        var state = store.ReadState();
        return state.Settings is not null ? state : throw NoSearch(store);
    }

    /// <summary>The run's whole journal with write times (reports, dashboards).</summary>
    public static IReadOnlyList<StoredEvent> ReadJournal(RunStore store)
    {
        store.Require();
        var events = store.ReadStoredEvents();
        return events.Count > 0 && events[0].Event is SearchStarted ? events : throw NoSearch(store);
    }

    private static RunStoreException NoSearch(RunStore store) => new(store.NoSearchYet);
}
