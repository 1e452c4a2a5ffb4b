using System.CommandLine;
using NasActors.Reports;

namespace NasActors.Cli.Commands;

/// <summary><c>nas workers</c>: every worker that trained for a run, machine by machine, from its journal.</summary>
public static class WorkersCommand
{
    public static Command Create()
    {
        var run = new RunOption();
        var json = new Option<bool>("--json") { Description = "print a JSON array" };
        var command = new Command("workers", "List a run's workers: machine, process, device, children trained, final trainings, failed, stopped early, requeued, resumed from a checkpoint, last report, health") { json };
        run.AddTo(command);
        command.SetAction(parse => CommandErrors.Guard(() =>
        {
            var store = run.Open(parse);
            // The whole journal (with write times), as the report reads it: status stays instant.
            var report = RunReportBuilder.Build(store.Title, store.ReadJournal(), DateTimeOffset.UtcNow, writing: store.WriterAlive(), journal: store.JournalName);
            Output.Rows(RunReportBuilder.Workers(report), parse.GetValue(json),
                ("worker", w => w.Worker), ("trained", w => $"{w.Trained}"), ("final", w => $"{w.Final}"), ("failed", w => $"{w.Failed}"), ("stopped", w => $"{w.Stopped}"), ("requeued", w => $"{w.Requeued}"),
                ("resumed", w => w.Resumed == 0 ? "-" : $"{w.Resumed} ({w.ResumedEpochs} epochs)"),
                ("training", w => w.Training is { } c ? $"child {c}" : "-"), ("busy", w => $"{w.BusyS:F0} s"),
                ("last report", w => w.LastReport is { } t ? $"{t:yyyy-MM-dd HH:mm:ss}Z" : "-"),
                ("health", w => w.Problem is { } p ? $"unhealthy: {p}" : w.Health));
            return ExitCodes.Ok;
        }));
        return command;
    }
}
