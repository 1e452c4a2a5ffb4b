using System.Text.Json;
using NasActors.SearchSpace;

namespace NasActors.Training.Networks;

/// <summary>
/// A planned network as JSON, every layer with its kind and sizes: what <c>nas model --plan</c>
/// prints and what the generated PyTorch module builds from, so both build the very same layers.
/// Cell inputs name earlier outputs: 0 is the stem, c + 1 is cell c's output.
/// </summary>
public static class PlanJson
{
    public static readonly JsonSerializerOptions Options = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static JsonElement Of(NetworkPlan plan) => JsonSerializer.SerializeToElement(new
    {
        name = plan.Name,
        layout = plan.Layout,
        @params = plan.Parameters,
        mult_adds = plan.MultAdds,
        input = plan.Input,
        stem = plan.Stem,
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
            // ScheduledDropPath's depth: -1 and -2 for the ImageNet stem cells, which it leaves alone.
            cell.Position,
        }),
        main_cells = plan.MainCellCount,
        drop_path_keep = plan.Config.DropPathKeep,
        head = plan.Head,
        // The auxiliary classifier (training only) reads the output of cell after_cell.
        aux = plan.Aux is { } a ? new { after_cell = a.AfterCell, a.Layers } : null,
    }, Options);
}
