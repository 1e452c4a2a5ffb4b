using System.CommandLine;
using NasActors.Protocol;
using NasActors.Reports;

namespace NasActors.Cli.Commands;

/// <summary><c>nas report</c>: one self-contained HTML file of one or more runs, from their journals (works while they run).</summary>
public static class ReportCommand
{
    public static Command Create()
    {
        var runs = new RunOption(many: true);
        var output = new Option<string>("--out", "-o") { Description = "the HTML file to write", Required = true };
        var top = TopOption();
        var command = new Command("report", "Write a run's report as one HTML file that opens offline") { output, top };
        runs.AddTo(command);
        command.SetAction(parse => CommandErrors.Guard(() =>
        {
            var file = parse.GetValue(output)!;
            if (string.IsNullOrWhiteSpace(file)) throw new InputException("--out", "give a file name");
            if (Directory.Exists(file)) throw new InputException("--out", $"{file} is a folder; give a file name");
            if (Path.GetDirectoryName(Path.GetFullPath(file)) is { } folder && !Directory.Exists(folder))
                throw new InputException("--out", $"folder {folder} does not exist");
            // Only a report may be replaced: never a journal, settings or any other file.
            if (File.Exists(file) && !IsReport(file))
                throw new InputException("--out", $"{file} exists and is not a nas report; it is left alone (choose another file)");
            var model = RunReports.Load(runs.OpenAll(parse), Top(parse, top), DateTimeOffset.UtcNow);
            var html = ReportPage.Render(model);
            // An existing report is replaced whole or not at all.
            try
            {
                AtomicFile.WriteAllText(file, html);
            }
            catch (IOException e)
            {
                throw new IOException($"--out: {e.Message}", e);
            }
            Console.Out.WriteLine($"{file}: {string.Join(", ", model.Runs.Select(r => $"{r.Name} ({r.Children.Id.Count} children)"))}, {new FileInfo(file).Length / 1024.0 / 1024.0:F1} MB");
            return ExitCodes.Ok;
        }));
        return command;
    }

    public static Option<int> TopOption() =>
        new("--top") { Description = "how many of the best children to list with their cells (1 to 200)", DefaultValueFactory = _ => 10 };

    /// <summary>The <c>--top</c> value, checked (each listed child draws two cell graphs).</summary>
    public static int Top(ParseResult parse, Option<int> option) =>
        parse.GetValue(option) is var top and >= 1 and <= 200 ? top : throw new InputException("--top", $"expected a whole number from 1 to 200, got {parse.GetValue(option)}");

    private static bool IsReport(string file)
    {
        using var reader = new StreamReader(file);
        var start = new char[200];
        var read = reader.Read(start, 0, start.Length);
        return new string(start, 0, read).Contains("<title>NasActors:", StringComparison.Ordinal);
    }
}
