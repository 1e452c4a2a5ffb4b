using System.CommandLine;
using NasActors.Node.Hosting;
using NasActors.Persistence;

namespace NasActors.Node.Commands;

/// <summary>The <c>--run DIR</c> of the commands that read a run, and how they read it: no actor system, no lock.</summary>
public static class RunOption
{
    public static Option<string> Create() => new("--run") { Description = "run folder", Required = true };

    /// <summary>The run's state from its latest snapshot and the events after it (works while a search writes it).</summary>
    public static SearchState ReadState(string dir)
    {
        if (string.IsNullOrWhiteSpace(dir)) throw new ArgumentException("--run: give a folder");
        RunFolder.Require(dir);
        var state = SqliteRunFiles.ReadState(dir);
        if (state.Settings is not null) return state;
        var journal = SqliteRunFiles.JournalPath(dir);
        throw new RunStoreException(!File.Exists(journal) || new FileInfo(journal).Length == 0
            ? $"{journal}: missing or empty (a search that never started, or a lost journal)"
            : $"{dir}: the journal holds no started search yet");
    }
}
