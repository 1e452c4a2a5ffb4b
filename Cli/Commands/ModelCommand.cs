using System.CommandLine;
using System.Text.Json;
using NasActors.ChildTrainer.Networks;
using NasActors.SearchSpace;
using Spectre.Console;

namespace NasActors.Cli.Commands;

/// <summary><c>nas model</c>: a network's parameters and mult-adds, counted from its plan without running it.</summary>
public static class ModelCommand
{
    private static readonly Dictionary<string, (int Channels, int Size, int Classes)> Presets = new()
    {
        ["cifar10"] = (3, 32, 10),
        ["imagenet"] = (3, 224, 1000),
        ["fashion-mnist"] = (1, 28, 10),
        ["mnist"] = (1, 28, 10),
    };

    public static Command Create()
    {
        var network = new NetworkOptions(defaultCells: 6, defaultFilters: 32);
        var dataset = new Option<string>("--dataset", "-d") { Description = "input shape preset: cifar10, imagenet, fashion-mnist or mnist", DefaultValueFactory = _ => "cifar10" };
        dataset.AcceptOnlyFromAmong([.. Presets.Keys]);
        var image = new Option<int?>("--image") { Description = "image size in pixels (overrides the preset)" };
        var classes = new Option<int?>("--classes") { Description = "number of classes (overrides the preset)" };
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        var planOption = new Option<bool>("--plan") { Description = "print the network's every layer as JSON (to build the same network elsewhere, e.g. bench/pytorch_child.py)" };
        var command = new Command("model", "Count a network's learnable parameters and mult-adds without running it") { dataset, image, classes, json, planOption };
        network.AddTo(command);
        command.SetAction(parse => CommandErrors.Guard(() =>
        {
            var preset = Presets[parse.GetValue(dataset)!];
            var size = parse.GetValue(image) ?? preset.Size;
            var plan = NetworkPlan.Create(network.Config(parse, preset.Channels, size, parse.GetValue(classes) ?? preset.Classes, NetworkOptions.StemFor(size)));
            var c = plan.Config;
            if (parse.GetValue(planOption))
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(new
                {
                    name = plan.Name,
                    layout = plan.Layout,
                    @params = plan.Parameters,
                    mult_adds = plan.MultAdds,
                    input = plan.Input,
                    stem = plan.Stem,
                    // Cell inputs name earlier outputs: 0 is the stem, c + 1 is cell c's output.
                    cells = plan.Cells.Select(cell => new
                    {
                        cell.Name,
                        cell.InputIndex,
                        cell.PrevInputIndex,
                        cell.HiAdjust,
                        cell.PrevAdjust,
                        blocks = cell.Blocks.Select(b => new
                        {
                            a = new { b.A.Input, b.A.Layers },
                            b = new { b.B.Input, b.B.Layers },
                            combine = b.Combine.Name(),
                        }),
                        outputs = cell.Outputs.Select(o => new { o.State, o.Reduce }),
                    }),
                    head = plan.Head,
                    // The auxiliary classifier (training only) reads the output of cell after_cell.
                    aux = plan.Aux is { } a ? new { after_cell = a.AfterCell, a.Layers } : null,
                }, Json.Options));
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
