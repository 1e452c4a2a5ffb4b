using System.CommandLine;
using NasActors.Cli.Commands;

// Commands that only read a run end within a second: there System.Text.Json's emitted accessors
// (each compiled fully optimized) cost more than plain reflection (bench/RESULTS.md, "nas status
// against nas --help"). Set before anything asks whether code can be emitted.
if (args is ["status" or "top" or "workers", ..])
    AppContext.SetSwitch("System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported", false);

var root = NasCommands.Create();

if (args.Length == 0) return ExitCodes.Fail(ExitCodes.Invalid, "no command given (nas --help lists them)");
var parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    // One line naming the option and what it accepts: no help dump, no .NET type names.
    // An unknown word says more than the missing command it leaves behind.
    var error = parse.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal)) ?? parse.Errors[0];
    var option = error.SymbolResult switch
    {
        System.CommandLine.Parsing.OptionResult o => o.Option.Name,
        System.CommandLine.Parsing.ArgumentResult { Parent: System.CommandLine.Parsing.OptionResult o } => o.Option.Name,
        _ => null,
    };
    return ExitCodes.Fail(ExitCodes.Invalid, OptionErrors.Describe(option, error.Message));
}
// InvokeAsync: Ctrl-C and SIGTERM cancel the running command's token instead of killing the process.
return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(20) });
