using System.CommandLine;
using NasActors.Node.Commands;

var root = new RootCommand("nas: NASNet-style neural architecture search as a crash-proof actor system");
root.Subcommands.Add(ShowCommand.Create());
root.Subcommands.Add(ValidateCommand.Create());
root.Subcommands.Add(ModelCommand.Create());
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(SearchCommand.Create());
root.Subcommands.Add(StatusCommand.Create());
root.Subcommands.Add(TopCommand.Create());
root.Subcommands.Add(ExportCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
// InvokeAsync: Ctrl-C and SIGTERM cancel the running command's token instead of killing the process.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(20) });
