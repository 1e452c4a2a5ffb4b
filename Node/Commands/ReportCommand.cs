using System.CommandLine;
using NasActors.Evaluator.Report;
using NasActors.SearchSpace;

namespace NasActors.Node.Commands;

/// <summary><c>nas report</c>: one self-contained HTML file of one or more runs, from their journals (works while they run).</summary>
public static class ReportCommand
{
    public static Command Create()
    {
        var runs = new Option<string[]>("--run")
        {
            Description = "run folder; give several to compare them",
            Required = true,
            Arity = ArgumentArity.OneOrMore,
        };
        var output = new Option<string>("--out", "-o") { Description = "the HTML file to write", Required = true };
        var top = TopOption();
        var command = new Command("report", "Write a run's report as one HTML file that opens offline") { runs, output, top };
        command.SetAction(parse => CommandErrors.Guard(() =>
        {
            var file = parse.GetValue(output)!;
            if (string.IsNullOrWhiteSpace(file)) throw new ArgumentException("--out: give a file name");
            if (Directory.Exists(file)) throw new ArgumentException($"--out: {file} is a folder; give a file name");
            if (Path.GetDirectoryName(Path.GetFullPath(file)) is { } folder && !Directory.Exists(folder))
                throw new ArgumentException($"--out: folder {folder} does not exist");
            var model = Load(parse.GetValue(runs)!, parse.GetValue(top), DateTimeOffset.UtcNow);
            var html = ReportPage.Render(model);
            // Written beside and renamed: an existing report is replaced whole or not at all.
            var full = Path.GetFullPath(file);
            var temp = full + ".tmp";
            File.WriteAllText(temp, html);
            File.Move(temp, full, overwrite: true);
            Console.Out.WriteLine($"{file}: {string.Join(", ", model.Runs.Select(r => $"{r.Name} ({r.Children.Id.Count} children)"))}, {new FileInfo(full).Length / 1024.0 / 1024.0:F1} MB");
            return ExitCodes.Ok;
        }));
        return command;
    }

    public static Option<int> TopOption()
    {
        var top = new Option<int>("--top") { Description = "how many of the best children to list with their cells", DefaultValueFactory = _ => 10 };
        top.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 1000) r.AddError("--top: expected a whole number from 1 to 1000");
        });
        return top;
    }

    /// <summary>The model of the runs in <paramref name="dirs"/>.</summary>
    public static ReportModel Load(IReadOnlyList<string> dirs, int top, DateTimeOffset now)
    {
        var names = RunNames(dirs);
        return new ReportModel(dirs.Select((d, i) => RunReportBuilder.Build(names[i], RunOption.ReadJournal(d), now, top)).ToList(), now, false, OpNames.AllNames);
    }

    /// <summary>Each run is named by its folder, or by its path where two folders share a name.</summary>
    public static IReadOnlyList<string> RunNames(IReadOnlyList<string> dirs)
    {
        var names = dirs.Select(d => Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(d)))).ToList();
        return names.Select((n, i) => names.Count(m => m == n) > 1 ? dirs[i] : n).ToList();
    }
}
