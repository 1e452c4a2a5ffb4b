using System.CommandLine;
using System.Text.Json;
using NasActors.Node.Hosting;
using NasActors.Persistence;
using Spectre.Console;

namespace NasActors.Node.Commands;

/// <summary><c>nas status</c>: a run's progress, read from its journal (works while it runs).</summary>
public static class StatusCommand
{
    public static Command Create()
    {
        var run = new Option<string>("--run") { Description = "run folder", Required = true };
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        var command = new Command("status", "Show a run's progress from its journal") { run, json };
        command.SetAction((parse, _) => CommandErrors.GuardAsync(async () =>
        {
            var summary = Summary(RunJournal.Fold(await RunJournal.ReadEventsAsync(parse.GetValue(run)!)));
            if (parse.GetValue(json))
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(summary, Json.Options));
                return ExitCodes.Ok;
            }
            var table = new Table().HideHeaders().AddColumns("", "");
            foreach (var p in summary.GetType().GetProperties())
                table.AddRow(p.Name, Markup.Escape($"{p.GetValue(summary)}"));
            AnsiConsole.Write(table);
            return ExitCodes.Ok;
        }));
        return command;
    }

    public sealed record RunSummary(
        string Strategy, int Budget, int Sampled, int Completed, int Running, int Failed, int IgnoredResults, double? BestAccuracy,
        int PolicyVersion, bool SearchCompleted, int FinalQueued, int FinalCompleted, bool Finished, double ElapsedS);

    public static RunSummary Summary(SearchState s)
    {
        var settings = s.Settings ?? throw new Hosting.RunFolderException("the run's journal holds no started search yet");
        var end = s.CompletedAt is { } c && s.Finished ? c : DateTimeOffset.UtcNow;
        return new RunSummary(settings.Strategy, s.Budget, s.Sampled, s.Trained, s.Running, s.Failed, s.IgnoredResults, s.BestAccuracy,
            s.PolicyVersion, s.SearchCompleted, s.FinalChildren.Count(), s.FinalChildren.Count(x => x.FinalStatus is ChildStatus.Trained or ChildStatus.Failed),
            s.Finished, (end - s.StartedAt!.Value).TotalSeconds);
    }
}
