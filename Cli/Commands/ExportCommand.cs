using System.CommandLine;
using NasActors.Protocol;
using NasActors.Search;
using NasActors.SearchSpace;

namespace NasActors.Cli.Commands;

/// <summary><c>nas export</c>: a ranked child's genotype as JSON, to carry into a bigger network.</summary>
public static class ExportCommand
{
    public static Command Create()
    {
        var run = new RunOption();
        var rank = new Option<int>("--rank") { Description = "rank in the leaderboard (1 = best)", DefaultValueFactory = _ => 1 };
        var output = new Option<string?>("--out", "-o") { Description = "file to write (default: standard output)" };
        var command = new Command("export", "Write a ranked child's genotype JSON") { rank, output };
        run.AddTo(command);
        command.SetAction(parse => CommandErrors.Guard(() =>
        {
            var r = parse.GetValue(rank);
            if (r < 1) throw new InputException("--rank", "must be at least 1");
            var top = SearchViews.Top(run.Open(parse).ReadStarted(), r);
            if (top.Count < r) throw new InputException("--rank", $"the run has {top.Count} trained children, no rank {r}");
            var json = GenotypeJson.Write(top[r - 1].Genotype) + "\n";
            if (parse.GetValue(output) is { } file)
            {
                if (string.IsNullOrWhiteSpace(file) || Directory.Exists(file)) throw new InputException("--out", $"give a file path, not '{file}'");
                File.WriteAllText(file, json);
            }
            else Console.Out.Write(json);
            return ExitCodes.Ok;
        }));
        return command;
    }
}
