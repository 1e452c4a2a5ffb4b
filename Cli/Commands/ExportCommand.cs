using System.CommandLine;
using NasActors.Training.Networks;
using NasActors.Protocol;
using NasActors.Search;
using NasActors.SearchSpace;

namespace NasActors.Cli.Commands;

/// <summary><c>nas export</c>: a ranked child's genotype as JSON, to carry into a bigger network.</summary>
public static class ExportCommand
{
    public static Command Create()
    {
        var run = new RunOption();
        var rank = new Option<int>("--rank") { Description = "rank in the leaderboard (1 = best)", DefaultValueFactory = _ => 1 };
        var output = new Option<string?>("--out", "-o") { Description = "file to write (default: standard output)" };
        var format = new Option<string>("--format", "-f")
        {
            Description = "genotype (its JSON) or pytorch (a standalone PyTorch module of the cell at the network options' size, untrained)",
            DefaultValueFactory = _ => "genotype",
        };
        format.AcceptOnlyFromAmong("genotype", "pytorch");
        var network = new NetworkOptions(defaultCells: 6, defaultFilters: 32);
        var (dataset, image, classes) = NetworkOptions.InputOptions();
        var command = new Command("export", "Write a ranked child's genotype JSON, or the network it makes as a PyTorch module") { rank, output, format, dataset, image, classes };
        run.AddTo(command);
        network.AddTo(command, genotype: false);
        command.SetAction(parse => CommandErrors.Guard(() =>
        {
            var r = parse.GetValue(rank);
            if (r < 1) throw new InputException("--rank", "must be at least 1");
            // Options that shape a network mean nothing to the cell alone: said, not ignored.
            if (parse.GetValue(format) != "pytorch"
                && new Option[] { network.Cells, network.Filters, network.Aux, network.StemFilters, network.DropPathKeep, dataset, image, classes }
                    .FirstOrDefault(o => parse.GetResult(o) is { Implicit: false }) is { } shaping)
                throw new InputException(shaping.Name, "shapes the network of --format pytorch; --format genotype exports the cell alone");
            var store = run.Open(parse);
            var top = SearchViews.Top(store.ReadStarted(), r);
            if (top.Count < r) throw new InputException("--rank", $"the run has {top.Count} trained children, no rank {r}");
            var genotype = top[r - 1].Genotype;
            var text = GenotypeJson.Write(genotype) + "\n";
            if (parse.GetValue(format) == "pytorch")
            {
                var plan = network.Plan(parse, genotype, dataset, image, classes);
                var pre = InputPresets.ByName[parse.GetValue(dataset)!].For(plan.Config.ImageSize, plan.Config.Classes);
                text = PyTorchSource.Generate(plan, pre, $"child {top[r - 1].ChildId} (rank {r}) of {RunOption.Options(store)}");
            }
            if (parse.GetValue(output) is { } file)
            {
                if (string.IsNullOrWhiteSpace(file) || Directory.Exists(file)) throw new InputException("--out", $"give a file path, not '{file}'");
                AtomicFile.WriteAllText(file, text);
            }
            else Console.Out.Write(text);
            return ExitCodes.Ok;
        }));
        return command;
    }
}
