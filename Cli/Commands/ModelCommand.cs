using System.CommandLine;
using System.Text.Json;
using NasActors.Training.Networks;
using NasActors.Protocol;
using NasActors.SearchSpace;
using Spectre.Console;

namespace NasActors.Cli.Commands;

/// <summary><c>nas model</c>: a network's parameters and mult-adds, counted from its plan without running it.</summary>
public static class ModelCommand
{
    public static Command Create()
    {
        var network = new NetworkOptions(defaultCells: 6, defaultFilters: 32);
        var (dataset, image, classes) = NetworkOptions.InputOptions();
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        var planOption = new Option<bool>("--plan") { Description = "print the network's every layer as JSON (to build the same network elsewhere; --pytorch writes it as a PyTorch module)" };
        var pytorch = new Option<string?>("--pytorch") { Description = "also write the network as a standalone PyTorch module (untrained) to this .py file" };
        var command = new Command("model", "Count a network's learnable parameters and mult-adds without running it") { dataset, image, classes, json, planOption, pytorch };
        network.AddTo(command);
        command.SetAction(parse => CommandErrors.Guard(() =>
        {
            var (plan, input) = network.Plan(parse, GenotypeSource.Load(parse.GetValue(network.Genotype)!), dataset, image, classes, input: parse.GetValue(pytorch) is not null);
            var c = plan.Config;
            var size = c.ImageSize;
            if (parse.GetValue(pytorch) is { } file)
            {
                if (string.IsNullOrWhiteSpace(file) || Directory.Exists(file)) throw new InputException("--pytorch", $"give a file path, not '{file}'");
                AtomicFile.WriteAllText(file, PyTorchSource.Generate(plan, input!, parse.GetValue(network.Genotype)!));
            }
            if (parse.GetValue(planOption))
            {
                Console.Out.WriteLine(PlanJson.Of(plan).GetRawText());
                return ExitCodes.Ok;
            }
            if (parse.GetValue(json))
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(new
                {
                    @params = plan.Parameters,
                    mult_adds = plan.MultAdds,
                    penultimate_filters = plan.PenultimateFilters,
                    name = plan.Name,
                    layout = plan.Layout,
                    cells = c.Cells,
                    filters = c.Filters,
                    image = size,
                    classes = c.Classes,
                    stem = c.Stem.ToString().ToLowerInvariant(),
                    aux = c.AuxHead,
                }, Json.Options));
                return ExitCodes.Ok;
            }
            var table = new Table().HideHeaders().AddColumns("", "");
            table.AddRow("network", $"{plan.Name} (N = {c.Cells}, F = {c.Filters}, P = {plan.PenultimateFilters})");
            table.AddRow("layout", plan.Layout);
            table.AddRow("input", $"{c.InputChannels}x{size}x{size}, {c.Classes} classes, {c.Stem} stem{(c.AuxHead ? ", auxiliary head" : "")}");
            table.AddRow("parameters", $"{plan.Parameters:N0} ({plan.Parameters / 1e6:F2}M)");
            table.AddRow("mult-adds", $"{plan.MultAdds:N0} ({plan.MultAdds / 1e6:F1}M)");
            table.AddRow("cells", string.Join(" ", plan.Cells.Select(cell => $"{(cell.Reduction ? "R" : "N")}:{cell.Output}")));
            Output.Stdout.Write(table);
            return ExitCodes.Ok;
        }));
        return command;
    }
}
