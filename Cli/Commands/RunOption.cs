using System.CommandLine;
using NasActors.Persistence;

namespace NasActors.Cli.Commands;

/// <summary>
/// <c>--run</c> and <c>--journal</c>, which name a run in every command (a folder, or a run's name in
/// a PostgreSQL database), opened as a <see cref="RunStore"/>.
/// </summary>
public sealed class RunOption
{
    public const string JournalHelp = "PostgreSQL database of a cluster's runs, postgresql://USER@HOST[:PORT]/DATABASE "
        + "(password from PGPASSWORD or ~/.pgpass); --run is then the run's name. Without it, --run is a folder";

    private readonly Option<string>? one;
    private readonly Option<string[]>? many;

    public RunOption(bool many = false)
    {
        if (many)
            this.many = new("--run") { Description = "run folder (or name, with --journal); give several to compare them", Required = true, Arity = ArgumentArity.OneOrMore };
        else
            one = new("--run") { Description = "run folder (or the run's name, with --journal)", Required = true };
    }

    public Option<string?> Journal { get; } = new("--journal") { Description = JournalHelp };

    public void AddTo(Command command)
    {
        command.Options.Add((Option?)one ?? many!);
        command.Options.Add(Journal);
    }

    /// <summary>The one run named (commands that take one).</summary>
    public RunStore Open(ParseResult parse) => OpenAll(parse)[0];

    public IReadOnlyList<RunStore> OpenAll(ParseResult parse) =>
        [.. (one is null ? parse.GetValue(many!)! : [parse.GetValue(one)!]).Select(r => RunStore.Open(r, parse.GetValue(Journal)))];

    /// <summary>The options that name <paramref name="store"/> on a command line (hints such as how to resume, processes the benchmarks start).</summary>
    public static IReadOnlyList<string> Arguments(RunStore store) => store switch
    {
        FolderRunStore folder => ["--run", folder.Directory],
        DatabaseRunStore database => ["--journal", database.Url.ToString(), "--run", database.Run],
        _ => throw new InvalidOperationException($"no options name a {store.GetType().Name}"),
    };

    /// <summary><see cref="Arguments"/> as text.</summary>
    public static string Options(RunStore store) => string.Join(' ', Arguments(store));
}
