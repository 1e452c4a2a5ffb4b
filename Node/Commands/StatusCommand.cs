using System.CommandLine;
using NasActors.Persistence;

namespace NasActors.Node.Commands;

/// <summary><c>nas status</c>: a run's progress, read from its journal (works while it runs).</summary>
public static class StatusCommand
{
    public static Command Create()
    {
        var run = RunOption.Create();
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        var command = new Command("status", "Show a run's progress from its journal") { run, json };
        command.SetAction(parse => CommandErrors.Guard(() =>
        {
            Output.Object(SearchViews.Summary(RunOption.ReadState(parse.GetValue(run)!), DateTimeOffset.UtcNow), parse.GetValue(json));
            return ExitCodes.Ok;
        }));
        return command;
    }
}
