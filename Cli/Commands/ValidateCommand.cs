using System.CommandLine;

namespace NasActors.Cli.Commands;

/// <summary><c>nas validate FILE</c>: exit 0 "valid", 2 with the problem, 1 if unreadable.</summary>
public static class ValidateCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "genotype JSON file" };
        var command = new Command("validate", "Check a genotype file against the search space (exit 0 valid, 2 invalid, 1 unreadable)") { file };
        command.SetAction(parse => CommandErrors.Guard(() =>
        {
            GenotypeSource.Load(parse.GetValue(file)!);
            Console.Out.WriteLine("valid");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
