using System.Text.Json;
using Spectre.Console;

namespace NasActors.Cli.Commands;

/// <summary>The one way commands print data: JSON (snake_case) for programs, or a table for people, on standard output.</summary>
public static class Output
{
    /// <summary>
    /// Standard output for tables and text. Piped into a file or another program it has no width
    /// to wrap at, so each row of a table stays one line (a terminal's width wraps only on a terminal).
    /// </summary>
    public static IAnsiConsole Stdout { get; } = Console.IsOutputRedirected
        ? Piped()
        : AnsiConsole.Console;

    private static IAnsiConsole Piped()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(Console.Out), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.No,
        });
        console.Profile.Width = 4096;
        return console;
    }

    /// <summary>One object: JSON, or a two-column table of its properties.</summary>
    public static void Object<T>(T value, bool json) where T : notnull
    {
        if (json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(value, Json.Options));
            return;
        }
        var table = new Table().HideHeaders().AddColumns("", "");
        foreach (var p in typeof(T).GetProperties())
            table.AddRow(Markup.Escape(JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name)), Markup.Escape(Format(p.GetValue(value))));
        Stdout.Write(table);
    }

    /// <summary>Rows: a JSON array, or a table with <paramref name="columns"/> (header and cell text of each row).</summary>
    public static void Rows<T>(IReadOnlyList<T> rows, bool json, params (string Header, Func<T, string> Cell)[] columns)
    {
        if (json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(rows, Json.Options));
            return;
        }
        var table = new Table().AddColumns(columns.Select(c => c.Header).ToArray());
        foreach (var row in rows) table.AddRow(columns.Select(c => Markup.Escape(c.Cell(row))).ToArray());
        Stdout.Write(table);
    }

    private static string Format(object? value) => value switch
    {
        null => "-",
        double d => d.ToString("0.####"),
        _ => value.ToString() ?? "",
    };
}
