using System.CommandLine;
using NasActors.Search;

namespace NasActors.Cli.Commands;

/// <summary><c>nas status</c>: a run's progress, read from its journal (works while it runs).</summary>
public static class StatusCommand
{
    public static Command Create()
    {
        var run = new RunOption();
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        var command = new Command("status", "Show a run's progress from its journal") { json };
        run.AddTo(command);
        command.SetAction(parse => CommandErrors.Guard(() =>
        {
            var store = run.Open(parse);
            var state = store.ReadStarted();
            // A search killed without a word leaves its children "running" forever: the run's lock or lease says whether anyone writes.
            var writing = store.WriterAlive();
            Output.Object(SearchViews.Summary(state, DateTimeOffset.UtcNow, writing, writing == false ? store.LastEventAt() : null), parse.GetValue(json));
            return ExitCodes.Ok;
        }));
        return command;
    }
}
