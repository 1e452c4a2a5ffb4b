using System.CommandLine;
using NasActors.ChildTrainer.Workers;
using NasActors.Persistence;
using NasActors.Training;
using NasActors.Training.Networks;
using NasActors.Protocol;
using NasActors.Search;
using NasActors.SearchSpace;

namespace NasActors.Cli.Commands;

/// <summary><c>nas export</c>: a child's genotype as JSON (by rank, or any child by id), to carry into a bigger network.</summary>
public static class ExportCommand
{
    public static Command Create()
    {
        var run = new RunOption();
        var rank = new Option<int>("--rank") { Description = "rank in the leaderboard (1 = best)", DefaultValueFactory = _ => 1 };
        var child = new Option<long?>("--child") { Description = "a child by its id, instead of --rank: any child the run sampled (ids as nas top, nas status and the report show them)" };
        var output = new Option<string?>("--out", "-o") { Description = "file to write (default: standard output)" };
        var format = new Option<string>("--format", "-f")
        {
            Description = "genotype (its JSON) or pytorch (a standalone PyTorch module of the cell at the network options' size, untrained)",
            DefaultValueFactory = _ => "genotype",
        };
        format.AcceptOnlyFromAmong("genotype", "pytorch");
        var weights = new Option<bool>("--weights")
        {
            Description = "with --format pytorch: the child's final training as it was trained (model.py and model.pt into the --out folder), not an untrained network",
        };
        var artifacts = new Option<string?>("--artifacts") { Description = "with --weights, for a run in --journal: the --artifacts directory its trainer nodes kept the networks in" };
        var network = new NetworkOptions(defaultCells: 6, defaultFilters: 32);
        var (dataset, image, classes) = NetworkOptions.InputOptions();
        var command = new Command("export", "Write a ranked child's genotype JSON, or the network it makes as a PyTorch module") { rank, child, output, format, weights, artifacts, dataset, image, classes };
        run.AddTo(command);
        network.AddTo(command, genotype: false);
        command.SetAction(parse => CommandErrors.Guard(() =>
        {
            var r = parse.GetValue(rank);
            if (r < 1) throw new InputException("--rank", "must be at least 1");
            var childId = parse.GetValue(child);
            if (childId is not null && parse.GetResult(rank) is { Implicit: false }) throw new InputException("--child", "names the child --rank would: give one of them");
            // Options that shape a network mean nothing to the cell alone: said, not ignored.
            if ((parse.GetValue(format) != "pytorch" || parse.GetValue(weights))
                && new Option[] { network.Cells, network.Filters, network.Aux, network.StemFilters, network.DropPathKeep, dataset, image, classes }
                    .FirstOrDefault(o => parse.GetResult(o) is { Implicit: false }) is { } shaping)
                throw new InputException(shaping.Name, parse.GetValue(weights)
                    ? "shapes an untrained network; --weights exports the final training's network as it was trained"
                    : "shapes the network of --format pytorch; --format genotype exports the cell alone");
            if (parse.GetValue(artifacts) is not null && !parse.GetValue(weights)) throw new InputException("--artifacts", "needs --weights");
            if (parse.GetValue(weights) && parse.GetValue(format) != "pytorch") throw new InputException("--weights", "needs --format pytorch");
            var store = run.Open(parse);
            var state = store.ReadStarted();
            var (id, ranked, option) = Chosen(state, childId, r);
            var name = ranked is null ? $"child {id}" : $"child {id} (rank {ranked.Rank})";
            if (parse.GetValue(weights))
            {
                if (ranked?.FinalAccuracy is null)
                    throw new InputException(option, $"{name} has no final training: only finalists' trained networks are kept (the run's top K)");
                Finalist(store, ranked, option, parse.GetValue(artifacts), parse.GetValue(output));
                return ExitCodes.Ok;
            }
            var genotype = state.Genotype(id);
            var text = GenotypeJson.Write(genotype) + "\n";
            if (parse.GetValue(format) == "pytorch")
            {
                var (plan, pre) = network.Plan(parse, genotype, dataset, image, classes);
                text = PyTorchSource.Generate(plan, pre!, $"{name} of {RunOption.Options(store)}");
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

    /// <summary>
    /// The child asked for: by id (any sampled child; ranked where it trained) or by rank; with the
    /// option that named it, for messages.
    /// </summary>
    private static (long Id, RankedChild? Ranked, string Option) Chosen(SearchState state, long? childId, int rank)
    {
        if (childId is { } id)
        {
            if (!state.Children.ContainsKey(id))
                throw new InputException("--child", state.Children.IsEmpty ? "the run has sampled no child yet" : $"the run has no child {id} (its ids are {state.Children.Keys.First()} to {state.Children.Keys.Last()})");
            return (id, SearchViews.Top(state, int.MaxValue).FirstOrDefault(c => c.ChildId == id), "--child");
        }
        var top = SearchViews.Top(state, rank);
        if (top.Count < rank) throw new InputException("--rank", $"the run has {top.Count} trained children, no rank {rank}");
        return (top[rank - 1].ChildId, top[rank - 1], "--rank");
    }

    /// <summary>Copies a finalist's kept network (model.py, model.pt) into <paramref name="output"/>, a folder.</summary>
    private static void Finalist(RunStore store, RankedChild child, string option, string? artifacts, string? output)
    {
        var root = artifacts is not null ? Path.GetFullPath(artifacts)
            : store is FolderRunStore folder ? folder.Directory
            : throw new InputException("--artifacts", $"a run in a database keeps its trained networks where its trainer nodes' --artifacts pointed: give that directory");
        if (string.IsNullOrWhiteSpace(output) || File.Exists(output)) throw new InputException("--out", "give the folder to write model.py and model.pt into");
        var from = TorchChildTrainer.FinalistFolder(root, child.ChildId);
        var files = new[] { PyTorchExport.ModuleFile, PyTorchExport.WeightsFile };
        if (files.FirstOrDefault(f => !File.Exists(Path.Combine(from, f))) is { } missing)
            throw new InputException(option, $"child {child.ChildId}'s final training kept no {missing} in {from} (trained by an exec: or synthetic trainer, before nas kept networks, or its files were removed)");
        Directory.CreateDirectory(output);
        foreach (var f in files) File.Copy(Path.Combine(from, f), Path.Combine(output, f), overwrite: true);
    }
}
