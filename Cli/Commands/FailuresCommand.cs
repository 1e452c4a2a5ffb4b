using System.CommandLine;
using NasActors.Search;

namespace NasActors.Cli.Commands;

/// <summary><c>nas failures</c>: every failed training of a run with its worker, attempts and reason.</summary>
public static class FailuresCommand
{
    public static Command Create()
    {
        var run = new RunOption();
        var json = new Option<bool>("--json") { Description = "print a JSON array" };
        var command = new Command("failures", "List a run's failed children and why they failed") { json };
        run.AddTo(command);
        command.SetAction(parse => CommandErrors.Guard(() =>
        {
            Output.Rows(SearchViews.Failures(run.Open(parse).ReadStarted()), parse.GetValue(json),
                ("child", f => $"{f.ChildId}{(f.Final ? " (final)" : "")}"), ("worker", f => f.Worker ?? "-"), ("attempts", f => $"{f.Attempts}"),
                ("reason", f => f.Reason));
            return ExitCodes.Ok;
        }));
        return command;
    }
}
