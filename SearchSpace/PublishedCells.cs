namespace NasActors.SearchSpace;

/// <summary>
/// Published cells, each written out from its paper's reference code. State 0 is h[i] and 1 is
/// h[i-1] as in TensorFlow's NASNet cells (<c>[net, prev_layer]</c>); DARTS numbers them the other
/// way round (s0 = h[i-1], s1 = h[i]), so its indices 0 and 1 are swapped here. Output sets are
/// written as the reference code concatenates them, not derived: TensorFlow cells list them by hand
/// (<c>used_hiddenstates</c>), and the unused-states rule would build another network.
/// </summary>
public static class PublishedCells
{
    private const int Hi = 0;
    private const int HiMinus1 = 1;

    private static Block Add(int a, Op opA, int b, Op opB) => new(a, b, opA, opB, Combine.Add);

    /// <summary>
    /// AmoebaNet-A (Real et al. 2019), from tensorflow/tpu models/official/amoeba_net/model_specs.py,
    /// cell "amoeba_net_a": normal hiddenstate_indices [0,0,1,1,0,1,0,2,5,0], used [1,0,1,0,0,1,0]
    /// (so h[i-1] is concatenated although blocks use it); reduction [1,0,0,2,1,0,4,0,1,0], used
    /// [1,1,0,0,0,0,0]. Its "none" is our identity, its "1x7_7x1" the bottlenecked op.
    /// </summary>
    public static Genotype AmoebaNetA { get; } = new(
        new Cell(
            [
                Add(Hi, Op.AvgPool3x3, Hi, Op.MaxPool3x3),
                Add(HiMinus1, Op.SepConv3x3, HiMinus1, Op.Identity),
                Add(Hi, Op.Identity, HiMinus1, Op.AvgPool3x3),
                Add(Hi, Op.SepConv3x3, 2, Op.SepConv5x5),
                Add(5, Op.AvgPool3x3, Hi, Op.SepConv3x3),
            ],
            [1, 3, 4, 6]),
        new Cell(
            [
                Add(HiMinus1, Op.SepConv3x3, Hi, Op.AvgPool3x3),
                Add(Hi, Op.MaxPool3x3, 2, Op.SepConv7x7),
                Add(HiMinus1, Op.MaxPool3x3, Hi, Op.MaxPool3x3),
                Add(4, Op.SepConv3x3, Hi, Op.Conv1x7Then7x1Bottleneck),
                Add(HiMinus1, Op.AvgPool3x3, Hi, Op.SepConv7x7),
            ],
            [2, 3, 4, 5, 6]));

    /// <summary>
    /// PNASNet-5 (Liu et al. 2018), from tensorflow/models research/slim/nets/nasnet/pnasnet.py,
    /// PNasNetNormalCell: hiddenstate_indices [1,1,0,0,0,0,4,0,1,0], used [1,1,0,0,0,0,0] (all five
    /// blocks concatenated). PNAS has one cell: its reduction cell is the same cell with stride 2.
    /// </summary>
    public static Genotype Pnasnet5 { get; } = new(PnasCell(), PnasCell());

    private static Cell PnasCell() => new(
        [
            Add(HiMinus1, Op.SepConv5x5, HiMinus1, Op.MaxPool3x3),
            Add(Hi, Op.SepConv7x7, Hi, Op.MaxPool3x3),
            Add(Hi, Op.SepConv5x5, Hi, Op.SepConv3x3),
            Add(4, Op.SepConv3x3, Hi, Op.MaxPool3x3),
            Add(HiMinus1, Op.SepConv3x3, Hi, Op.Identity),
        ],
        [2, 3, 4, 5, 6]);

    /// <summary>
    /// DARTS V2, second order (Liu et al. 2019), from quark0/darts cnn/genotypes.py DARTS_V2:
    /// normal [(sep_conv_3x3, 0), (sep_conv_3x3, 1), (sep_conv_3x3, 0), (sep_conv_3x3, 1),
    /// (sep_conv_3x3, 1), (skip_connect, 0), (skip_connect, 0), (dil_conv_3x3, 2)], reduce
    /// [(max_pool_3x3, 0), (max_pool_3x3, 1), (skip_connect, 2), (max_pool_3x3, 1), (max_pool_3x3, 0),
    /// (skip_connect, 2), (skip_connect, 2), (max_pool_3x3, 1)], both concatenating states 2-5.
    /// </summary>
    public static Genotype DartsV2 { get; } = new(
        new Cell(
            [
                Add(HiMinus1, Op.SepConv3x3, Hi, Op.SepConv3x3),
                Add(HiMinus1, Op.SepConv3x3, Hi, Op.SepConv3x3),
                Add(Hi, Op.SepConv3x3, HiMinus1, Op.SkipConnect),
                Add(HiMinus1, Op.SkipConnect, 2, Op.DilSepConv3x3),
            ],
            [2, 3, 4, 5]),
        new Cell(
            [
                Add(HiMinus1, Op.MaxPool3x3, Hi, Op.MaxPool3x3),
                Add(2, Op.SkipConnect, Hi, Op.MaxPool3x3),
                Add(HiMinus1, Op.MaxPool3x3, 2, Op.SkipConnect),
                Add(2, Op.SkipConnect, Hi, Op.MaxPool3x3),
            ],
            [2, 3, 4, 5]));

    /// <summary>
    /// DARTS V1, first order, from the same file (DARTS_V1): normal [(sep_conv_3x3, 1),
    /// (sep_conv_3x3, 0), (skip_connect, 0), (sep_conv_3x3, 1), (skip_connect, 0), (sep_conv_3x3, 1),
    /// (sep_conv_3x3, 0), (skip_connect, 2)], reduce [(max_pool_3x3, 0), (max_pool_3x3, 1),
    /// (skip_connect, 2), (max_pool_3x3, 0), (max_pool_3x3, 0), (skip_connect, 2), (skip_connect, 2),
    /// (avg_pool_3x3, 0)].
    /// </summary>
    public static Genotype DartsV1 { get; } = new(
        new Cell(
            [
                Add(Hi, Op.SepConv3x3, HiMinus1, Op.SepConv3x3),
                Add(HiMinus1, Op.SkipConnect, Hi, Op.SepConv3x3),
                Add(HiMinus1, Op.SkipConnect, Hi, Op.SepConv3x3),
                Add(HiMinus1, Op.SepConv3x3, 2, Op.SkipConnect),
            ],
            [2, 3, 4, 5]),
        new Cell(
            [
                Add(HiMinus1, Op.MaxPool3x3, Hi, Op.MaxPool3x3),
                Add(2, Op.SkipConnect, HiMinus1, Op.MaxPool3x3),
                Add(HiMinus1, Op.MaxPool3x3, 2, Op.SkipConnect),
                Add(2, Op.SkipConnect, HiMinus1, Op.AvgPool3x3),
            ],
            [2, 3, 4, 5]));

    /// <summary>The built-in cells by the name <c>--genotype</c> takes.</summary>
    public static IReadOnlyDictionary<string, Genotype> ByName { get; } = new Dictionary<string, Genotype>(StringComparer.OrdinalIgnoreCase)
    {
        ["nasnet-a"] = NasNetA.Genotype,
        ["amoebanet-a"] = AmoebaNetA,
        ["pnasnet-5"] = Pnasnet5,
        ["darts-v1"] = DartsV1,
        ["darts-v2"] = DartsV2,
    };
}
