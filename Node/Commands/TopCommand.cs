using System.CommandLine;
using System.Text.Json;
using NasActors.Evaluator;
using NasActors.Node.Hosting;
using NasActors.SearchSpace;
using Spectre.Console;

namespace NasActors.Node.Commands;

/// <summary><c>nas top</c>: the best children of a run, recomputed from its journal.</summary>
public static class TopCommand
{
    public static Command Create()
    {
        var run = new Option<string>("--run") { Description = "run folder", Required = true };
        var k = new Option<int>("-k", "--top") { Description = "how many", DefaultValueFactory = _ => 10 };
        var json = new Option<bool>("--json") { Description = "print a JSON array, best first" };
        var command = new Command("top", "List a run's best children") { run, k, json };
        command.SetAction((parse, _) => CommandErrors.GuardAsync(async () =>
        {
            if (parse.GetValue(k) < 1) throw new ArgumentException("-k must be at least 1");
            var entries = RunJournal.Leaderboard(await RunJournal.ReadEventsAsync(parse.GetValue(run)!), parse.GetValue(k)).Entries;
            if (parse.GetValue(json))
                Console.Out.WriteLine(JsonSerializer.Serialize(entries.Select((e, i) => new
                {
                    rank = i + 1, child_id = e.ChildId, accuracy = e.Accuracy, @params = e.Parameters,
                    final_accuracy = e.FinalAccuracy, final_test_accuracy = e.FinalTestAccuracy,
                    genotype = GenotypeText.FormatCompact(e.Genotype),
                }), Json.Options));
            else
                Render(entries);
            return ExitCodes.Ok;
        }));
        return command;
    }

    public static void Render(IReadOnlyList<LeaderboardEntry> entries)
    {
        var table = new Table().AddColumns("rank", "child", "val accuracy", "params", "final val / test");
        foreach (var (e, i) in entries.Select((e, i) => (e, i)))
            table.AddRow($"{i + 1}", $"{e.ChildId}", $"{e.Accuracy:P2}", $"{e.Parameters:N0}",
                e.FinalAccuracy is { } f ? $"{f:P2} / {e.FinalTestAccuracy:P2}" : "-");
        AnsiConsole.Write(table);
        if (entries.Count > 0)
            AnsiConsole.WriteLine($"best cell (./nas export --run DIR --rank 1 for its JSON):\n{GenotypeText.Format(entries[0].Genotype)}");
    }
}
