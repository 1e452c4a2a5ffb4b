using System.CommandLine;
using NasActors.Node.Hosting;
using NasActors.Persistence;
using NasActors.Persistence.Events;

namespace NasActors.Node.Commands;

/// <summary>The <c>--run DIR</c> of the commands that read a run, and how they read it: no actor system, no lock.</summary>
public static class RunOption
{
    public static Option<string> Create() => new("--run") { Description = "run folder", Required = true };

    /// <summary>The run's state from its latest snapshot and the events after it (works while a search writes it).</summary>
    public static SearchState ReadState(string dir)
    {
        Check(dir);
        var state = SqliteRunFiles.ReadState(dir);
        return state.Settings is not null ? state : throw NoSearch(dir);
    }

    /// <summary>The run's whole journal with write times (reports, dashboards).</summary>
    public static IReadOnlyList<StoredEvent> ReadJournal(string dir)
    {
        Check(dir);
        var events = SqliteRunFiles.ReadStoredEvents(dir);
        return events.Count > 0 && events[0].Event is SearchStarted ? events : throw NoSearch(dir);
    }

    private static void Check(string dir)
    {
        if (string.IsNullOrWhiteSpace(dir)) throw new ArgumentException("--run: give a folder");
        RunFolder.Require(dir);
    }

    private static RunStoreException NoSearch(string dir)
    {
        var journal = SqliteRunFiles.JournalPath(dir);
        return new RunStoreException(!File.Exists(journal) || new FileInfo(journal).Length == 0
            ? $"{journal}: missing or empty (a search that never started, or a lost journal)"
            : $"{dir}: the journal holds no started search yet");
    }
}
