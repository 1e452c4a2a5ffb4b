using System.CommandLine;
using NasActors.SearchSpace;

namespace NasActors.Cli.Commands;

/// <summary><c>nas show</c>: prints a genotype as text, JSON or a Graphviz graph.</summary>
public static class ShowCommand
{
    public static Command Create()
    {
        var genotype = new Option<string>("--genotype", "-g") { Description = GenotypeSource.Help, Required = true };
        var format = new Option<string>("--format", "-f")
        {
            Description = "text, json or dot (Graphviz; render with dot -Tsvg)",
            DefaultValueFactory = _ => "text",
        };
        format.AcceptOnlyFromAmong("text", "json", "dot");

        var command = new Command("show", "Print a genotype") { genotype, format };
        command.SetAction(parse => CommandErrors.Guard(() =>
        {
            var g = GenotypeSource.Load(parse.GetValue(genotype)!);
            Console.Out.Write(parse.GetValue(format) switch
            {
                "json" => GenotypeJson.Write(g) + "\n",
                "dot" => GenotypeDot.Format(g),
                _ => GenotypeText.Format(g),
            });
            return ExitCodes.Ok;
        }));
        return command;
    }
}
