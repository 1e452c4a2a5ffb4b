using System.CommandLine;

namespace NasActors.Cli.Commands;

/// <summary>Every nas command: the program parses with it, and the docs' commands are checked against it.</summary>
public static class NasCommands
{
    public static RootCommand Create()
    {
        var root = new RootCommand("nas: NASNet-style neural architecture search as a crash-proof actor system");
        root.Subcommands.Add(ShowCommand.Create());
        root.Subcommands.Add(ValidateCommand.Create());
        root.Subcommands.Add(ModelCommand.Create());
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(CheckCommand.Create());
        root.Subcommands.Add(SearchCommand.Create());
        root.Subcommands.Add(NodeCommand.Create());
        root.Subcommands.Add(CertCommand.Create());
        root.Subcommands.Add(StatusCommand.Create());
        root.Subcommands.Add(TopCommand.Create());
        root.Subcommands.Add(FailuresCommand.Create());
        root.Subcommands.Add(WorkersCommand.Create());
        root.Subcommands.Add(ExportCommand.Create());
        root.Subcommands.Add(ReportCommand.Create());
        root.Subcommands.Add(DashboardCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        return root;
    }
}
