using System.CommandLine;
using NasActors.Protocol;
using NasActors.SearchSpace;

namespace NasActors.Cli.Commands;

/// <summary>
/// <c>nas validate FILE</c>: exit 0 with "valid", its B and the search spaces that can express it;
/// 2 with the problem (or with what <c>--space</c> cannot express); 1 if unreadable.
/// </summary>
public static class ValidateCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "genotype JSON file (or a published cell's name)" };
        var space = new Option<string?>("--space") { Description = $"also require that this search space can express it: {string.Join(", ", SearchSpaces.Names)}" };
        space.AcceptOnlyFromAmong([.. SearchSpaces.Names]);
        var command = new Command("validate", "Check a genotype file (exit 0 valid, 2 invalid, 1 unreadable); says which search spaces can express it") { file, space };
        command.SetAction(parse => CommandErrors.Guard(() =>
        {
            var genotype = GenotypeSource.Load(parse.GetValue(file)!);
            if (parse.GetValue(space) is { } name && SearchSpaces.Get(name).Errors(genotype) is { Count: > 0 } outside)
                throw new InputException(string.Join("; ", outside));
            var spaces = SearchSpaces.Containing(genotype).Select(s => s.Name).ToList();
            Console.Out.WriteLine($"valid: B = {genotype.Normal.Blocks.Count}, " +
                (spaces.Count == 0 ? "in no search space" : $"in the {string.Join(" and ", spaces)} space{(spaces.Count > 1 ? "s" : "")}"));
            return ExitCodes.Ok;
        }));
        return command;
    }
}
