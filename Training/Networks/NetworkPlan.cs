using NasActors.Protocol;
using NasActors.SearchSpace;

namespace NasActors.Training.Networks;

public enum StemKind
{
    /// <summary>One 3x3 conv (CIFAR-sized images).</summary>
    Cifar,

    /// <summary>A stride-2 3x3 conv and two reduction cells (ImageNet-sized images).</summary>
    ImageNet,
}

/// <summary>
/// What to build: a genotype stacked as three stages of normal cells with a reduction cell
/// between stages (filters doubling at each reduction): N-R-N-R-N, or per-stage counts such as
/// 4-R-3-R-3. <see cref="Filters"/> is F, the filter count of the first stage's blocks.
/// <see cref="StemFilters"/> defaults to 3F (CIFAR) or 32 (ImageNet).
/// </summary>
public sealed record NetworkConfig(
    Genotype Genotype,
    CellCounts Cells,
    int Filters,
    int Classes,
    int InputChannels,
    int ImageSize,
    StemKind Stem,
    int? StemFilters = null,
    bool AuxHead = false,
    double Dropout = 0.0,
    double DropPathKeep = 1.0)
{
    public const int Reductions = 2;

    /// <summary>
    /// The image sizes a network may take, for every command alike (counted, exported, trained,
    /// decoded from a folder): two reductions leave 2x2 of the smallest; the largest is well past
    /// the paper's 331 px.
    /// </summary>
    public const int MinImageSize = 8, MaxImageSize = 1024;

    /// <summary>The image size option's value refused in one line naming it, or the size.</summary>
    public static int CheckImageSize(int size) =>
        size is >= MinImageSize and <= MaxImageSize ? size
            : throw new InputException("--image", $"image size must be between {MinImageSize} and {MaxImageSize} pixels, got {size}");

    /// <summary>ImageNet-style stems (stride-2 conv, two reduction stem cells) for images of 64 pixels and more.</summary>
    public static StemKind StemFor(int imageSize) => imageSize >= 64 ? StemKind.ImageNet : StemKind.Cifar;

    public int StemOutFilters => StemFilters ?? (Stem == StemKind.Cifar ? 3 * Filters : 32);
}

/// <summary>An op placed in a cell: its layers and where its input comes from.</summary>
public sealed record OpPlan(Op Op, int Input, int Stride, FeatureShape InputShape, IReadOnlyList<Layer> Layers)
{
    public FeatureShape Output => Layers.Output(InputShape);
}

public sealed record BlockPlan(OpPlan A, OpPlan B, Combine Combine, FeatureShape Output);

/// <summary>
/// One cell with every shape resolved. Hidden states 0 and 1 are the cell's inputs after
/// adjustment to F channels (h[i] by ReLU-1x1-BN; h[i-1] by factorized reduction when it is
/// larger than h[i], by ReLU-1x1-BN when its channels differ). Output states smaller-sized than
/// the cell's output (h[i], h[i-1] of a reduction cell) are factorized-reduced.
/// </summary>
public sealed record CellPlan(
    string Name,
    bool Reduction,
    int Filters,
    int InputIndex,
    int PrevInputIndex,
    IReadOnlyList<Layer> HiAdjust,
    IReadOnlyList<Layer> PrevAdjust,
    FeatureShape HiShape,
    FeatureShape PrevShape,
    IReadOnlyList<BlockPlan> Blocks,
    IReadOnlyList<(int State, IReadOnlyList<Layer> Reduce)> Outputs,
    FeatureShape Output,
    int Position);

/// <summary>The auxiliary classifier attached after <see cref="AfterCell"/>.</summary>
public sealed record AuxPlan(int AfterCell, FeatureShape Input, IReadOnlyList<Layer> Layers);

/// <summary>
/// A whole network with every layer and shape resolved, before any tensor exists: the builder
/// instantiates it and <see cref="Parameters"/>/<see cref="MultAdds"/> count it.
/// Cell inputs name earlier outputs: index 0 is the stem, index c + 1 is cell c's output.
/// </summary>
public sealed class NetworkPlan
{
    private NetworkPlan(NetworkConfig config, FeatureShape input, IReadOnlyList<Layer> stem, IReadOnlyList<CellPlan> cells, AuxPlan? aux, IReadOnlyList<Layer> head)
    {
        Config = config;
        Input = input;
        Stem = stem;
        Cells = cells;
        Aux = aux;
        Head = head;
    }

    public NetworkConfig Config { get; }
    public FeatureShape Input { get; }
    public IReadOnlyList<Layer> Stem { get; }
    public IReadOnlyList<CellPlan> Cells { get; }
    public AuxPlan? Aux { get; }
    public IReadOnlyList<Layer> Head { get; }

    /// <summary>Cells that ScheduledDropPath counts (all but the ImageNet stem cells).</summary>
    public int MainCellCount => Cells.Count(c => c.Position >= 0);

    /// <summary>P in the "N@P" name: channels of the last cell's output.</summary>
    public int PenultimateFilters => Cells[^1].Output.Channels;

    /// <summary>"N@P" as the papers name networks ("4,3,3@4320" for per-stage counts).</summary>
    public string Name => $"{Config.Cells}@{PenultimateFilters}";

    /// <summary>The normal and reduction cells in order (4-R-3-R-3), and the stem's reduction cells where there are.</summary>
    public string Layout => Config.Cells.Layout + (Config.Stem == StemKind.ImageNet ? " after 2 stem reduction cells" : "");

    public long Parameters =>
        Stem.Parameters() + Cells.Sum(CellParameters) + (Aux?.Layers.Parameters() ?? 0) + Head.Parameters();

    /// <summary>Multiply-adds for one image; the auxiliary head (training only) is not counted.</summary>
    public long MultAdds
    {
        get
        {
            var shapes = new List<FeatureShape> { Stem.Output(Input) };
            long total = Stem.MultAdds(Input);
            foreach (var c in Cells)
            {
                total += c.HiAdjust.MultAdds(c.HiShape) + c.PrevAdjust.MultAdds(c.PrevShape);
                total += c.Blocks.Sum(b => b.A.Layers.MultAdds(b.A.InputShape) + b.B.Layers.MultAdds(b.B.InputShape));
                total += c.Outputs.Sum(o => o.Reduce.MultAdds(StateShape(c, o.State)));
                shapes.Add(c.Output);
            }
            return total + Head.MultAdds(Cells[^1].Output);
        }
    }

    public static FeatureShape StateShape(CellPlan cell, int state) => state switch
    {
        0 => cell.HiAdjust.Output(cell.HiShape),
        1 => cell.PrevAdjust.Output(cell.PrevShape),
        _ => cell.Blocks[state - 2].Output,
    };

    private static long CellParameters(CellPlan c) =>
        c.HiAdjust.Parameters() + c.PrevAdjust.Parameters()
        + c.Blocks.Sum(b => b.A.Layers.Parameters() + b.B.Layers.Parameters())
        + c.Outputs.Sum(o => o.Reduce.Parameters());

    /// <summary>NASNet-A large has F = 168; F past this makes layers whose sizes overflow their counts.</summary>
    public const int MaxFilters = 4096;

    /// <summary>Plans the network; throws <see cref="InputException"/> naming what cannot be built (and the option that sets it).</summary>
    public static NetworkPlan Create(NetworkConfig config)
    {
        config.Genotype.Validated();
        if (config.Filters is < 4 or > MaxFilters) throw new InputException("--filters", $"filters (F) must be between 4 and {MaxFilters}, got {config.Filters}");
        if (config.StemFilters is < 1 or > MaxFilters * 4)
            throw new InputException("--stem-filters", $"stem filters must be between 1 and {MaxFilters * 4}, got {config.StemFilters}");
        if (config.Classes < 2) throw new InputException("--classes", $"classes must be at least 2, got {config.Classes}");
        if (config.InputChannels < 1) throw new InputException($"input channels must be at least 1, got {config.InputChannels}");
        if (!(config.Dropout is >= 0 and < 1)) throw new InputException($"dropout must be in [0, 1), got {config.Dropout}");
        if (!(config.DropPathKeep is > 0 and <= 1)) throw new InputException("--drop-path-keep", $"drop-path keep probability must be in (0, 1], got {config.DropPathKeep}");
        NetworkConfig.CheckImageSize(config.ImageSize);
        var minSize = config.Stem == StemKind.Cifar ? NetworkConfig.MinImageSize : 32;
        if (config.ImageSize < minSize)
            throw new InputException($"image size {config.ImageSize} is too small for the {config.Stem} stem and its reductions (at least {minSize})");

        var input = new FeatureShape(config.InputChannels, config.ImageSize, config.ImageSize);
        var f = config.Filters;
        var stem = config.Stem == StemKind.Cifar
            ? new Layer[] { new ConvLayer(config.InputChannels, config.StemOutFilters, 3, 3), new BatchNormLayer(config.StemOutFilters) }
            : [new ValidConvLayer(config.InputChannels, config.StemOutFilters, 3, 2), new BatchNormLayer(config.StemOutFilters)];

        var outputs = new List<FeatureShape> { stem.Output(input) };
        var cells = new List<CellPlan>();
        void Add(string name, Cell cell, bool reduction, int filters, int position)
        {
            var hi = outputs.Count - 1;
            var prev = Math.Max(0, outputs.Count - 2);
            var plan = PlanCell(name, cell, reduction, filters, hi, prev, outputs[hi], outputs[prev], position);
            cells.Add(plan);
            outputs.Add(plan.Output);
        }

        if (config.Stem == StemKind.ImageNet)
        {
            // Two channels at least: a factorized reduction (skip_connect on a reduction cell's input)
            // splits its output in two halves, and one channel has no second half.
            Add("stem_cell_0", config.Genotype.Reduction, true, Math.Max(2, f / 4), -2);
            Add("stem_cell_1", config.Genotype.Reduction, true, Math.Max(2, f / 2), -1);
        }

        var position = 0;
        AuxPlan? aux = null;
        for (var stage = 0; stage <= NetworkConfig.Reductions; stage++)
        {
            var filters = f << stage;
            if (stage > 0)
            {
                if (stage == NetworkConfig.Reductions && config.AuxHead)
                    aux = PlanAux(cells.Count - 1, outputs[^1], config.Classes);
                Add($"reduction_{stage - 1}", config.Genotype.Reduction, true, filters, position++);
            }
            for (var n = 0; n < config.Cells[stage]; n++)
                Add($"stage{stage}_normal_{n}", config.Genotype.Normal, false, filters, position++);
        }

        var last = outputs[^1];
        Layer[] head = [new ReluLayer(), new GlobalAvgPoolLayer(), new DropoutLayer(config.Dropout), new LinearLayer(last.Channels, config.Classes)];
        return new NetworkPlan(config, input, stem, cells, aux, head);
    }

    private static CellPlan PlanCell(string name, Cell cell, bool reduction, int f, int hiIndex, int prevIndex, FeatureShape hi, FeatureShape prev, int position)
    {
        Layer[] hiAdjust = OpLayers.ReluConvBn(new ConvLayer(hi.Channels, f, 1, 1));
        Layer[] prevAdjust = prev.Height > hi.Height
            ? [new ReluLayer(), new FactorizedReduceLayer(prev.Channels, f)]
            : prev.Channels != f ? OpLayers.ReluConvBn(new ConvLayer(prev.Channels, f, 1, 1)) : [];
        var prevShape = prevAdjust.Output(prev);
        if (prevShape.Height != hi.Height || prevShape.Width != hi.Width)
            throw new InputException($"{name}: h[i-1] ({prev}) cannot be brought to the size of h[i] ({hi})");

        var states = new List<FeatureShape> { hiAdjust.Output(hi), prevShape };
        var blocks = new List<BlockPlan>();
        foreach (var b in cell.Blocks)
        {
            OpPlan Plan(Op op, int input)
            {
                var stride = reduction && input < 2 ? 2 : 1;
                var shape = states[input];
                return new OpPlan(op, input, stride, shape, OpLayers.For(op, shape.Channels, f, stride));
            }
            var a = Plan(b.OpA, b.InputA);
            var c = Plan(b.OpB, b.InputB);
            var (oa, ob) = (a.Output, c.Output);
            if (oa.Height != ob.Height || oa.Width != ob.Width)
                throw new InputException($"{name}: block {blocks.Count} combines {oa} with {ob}");
            var output = b.Combine == Combine.Add ? oa : oa with { Channels = oa.Channels + ob.Channels };
            blocks.Add(new BlockPlan(a, c, b.Combine, output));
            states.Add(output);
        }

        var size = states[^1];
        var outs = cell.Output
            .Select(s => (s, states[s].Height != size.Height
                ? (IReadOnlyList<Layer>)[new ReluLayer(), new FactorizedReduceLayer(states[s].Channels, f)]
                : []))
            .ToList();
        var channels = outs.Sum(o => o.Item2.Output(states[o.s]).Channels);
        return new CellPlan(name, reduction, f, hiIndex, prevIndex, hiAdjust, prevAdjust, hi, prev, blocks, outs,
            size with { Channels = channels }, position);
    }

    private static AuxPlan PlanAux(int afterCell, FeatureShape input, int classes)
    {
        var pool = new ValidAvgPoolLayer(Math.Min(5, input.Height), 3);
        var pooled = pool.Output(new FeatureShape(128, input.Height, input.Width));
        Layer[] layers =
        [
            new ReluLayer(), pool,
            new ConvLayer(input.Channels, 128, 1, 1), new BatchNormLayer(128), new ReluLayer(),
            new ValidConvLayer(128, 768, pooled.Height, 1), new BatchNormLayer(768), new ReluLayer(),
            new LinearLayer(768, classes),
        ];
        return new AuxPlan(afterCell, input, layers);
    }
}
