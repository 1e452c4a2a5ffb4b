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
        RunFolder.Require(dir);
        var state = SqliteRunFiles.ReadState(dir);
        return state.Settings is null ? throw new RunStoreException($"{dir}: the journal holds no started search yet") : state;
    }
}
