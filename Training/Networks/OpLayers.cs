using NasActors.SearchSpace;

namespace NasActors.Training.Networks;

/// <summary>
/// What each op is made of, for an input of <c>inC</c> channels producing <c>outC</c> (the
/// cell's filter count) with the given stride. Convolutions are ReLU-conv-BN; separable convs
/// are applied twice (NASNet's <c>separable_KxK_2</c>), dilated separable ones once (DARTS);
/// pools and identities get a 1x1 conv where the channels (or, for identity, the stride) require
/// one; DARTS' skip connection reduces by a factorized reduction instead.
/// </summary>
public static class OpLayers
{
    public static IReadOnlyList<Layer> For(Op op, int inC, int outC, int stride) => op switch
    {
        Op.Identity when stride == 1 && inC == outC => [],
        Op.Identity or Op.Conv1x1 => ReluConvBn(new ConvLayer(inC, outC, 1, 1, stride, stride)),
        Op.Conv3x3 => ReluConvBn(new ConvLayer(inC, outC, 3, 3, stride, stride)),
        Op.DilConv3x3 => ReluConvBn(new ConvLayer(inC, outC, 3, 3, stride, stride, Dilation: 2)),
        Op.Conv1x3Then3x1 => Factorized(inC, outC, 3, stride),
        Op.Conv1x7Then7x1 => Factorized(inC, outC, 7, stride),
        Op.AvgPool3x3 => Pool(false, 3, inC, outC, stride),
        Op.MaxPool3x3 => Pool(true, 3, inC, outC, stride),
        Op.MaxPool5x5 => Pool(true, 5, inC, outC, stride),
        Op.MaxPool7x7 => Pool(true, 7, inC, outC, stride),
        Op.SepConv3x3 => Separable(inC, outC, 3, stride),
        Op.SepConv5x5 => Separable(inC, outC, 5, stride),
        Op.SepConv7x7 => Separable(inC, outC, 7, stride),
        Op.Conv1x7Then7x1Bottleneck => Bottleneck(inC, outC, 7, stride),
        Op.DilSepConv3x3 => DilatedSeparable(inC, outC, 3, stride),
        Op.DilSepConv5x5 => DilatedSeparable(inC, outC, 5, stride),
        Op.SkipConnect when stride == 1 && inC == outC => [],
        Op.SkipConnect when stride == 1 => ReluConvBn(new ConvLayer(inC, outC, 1, 1)),
        Op.SkipConnect => [new ReluLayer(), new FactorizedReduceLayer(inC, outC)],
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "unknown op"),
    };

    public static Layer[] ReluConvBn(ConvLayer conv) => [new ReluLayer(), conv, new BatchNormLayer(conv.Out)];

    private static Layer[] Factorized(int inC, int outC, int k, int stride) =>
    [
        new ReluLayer(),
        new ConvLayer(inC, outC, 1, k, 1, stride),
        new ConvLayer(outC, outC, k, 1, stride, 1),
        new BatchNormLayer(outC),
    ];

    /// <summary>
    /// AmoebaNet's 1xK then Kx1 (tensorflow/tpu amoeba_net network_utils, <c>_apply_operation</c>):
    /// ReLU, 1x1 to F/4, BN, ReLU, 1xK, BN, ReLU, Kx1, BN, ReLU, 1x1 back to F, BN; without the
    /// bottleneck where F/4 would be no channel at all.
    /// </summary>
    private static Layer[] Bottleneck(int inC, int outC, int k, int stride)
    {
        var r = outC / 4;
        if (r < 1) return [new ReluLayer(), new ConvLayer(inC, outC, 1, k, 1, stride), new BatchNormLayer(outC), new ReluLayer(), new ConvLayer(outC, outC, k, 1, stride, 1), new BatchNormLayer(outC)];
        return
        [
            .. ReluConvBn(new ConvLayer(inC, r, 1, 1)),
            .. ReluConvBn(new ConvLayer(r, r, 1, k, 1, stride)),
            .. ReluConvBn(new ConvLayer(r, r, k, 1, stride, 1)),
            .. ReluConvBn(new ConvLayer(r, outC, 1, 1)),
        ];
    }

    /// <summary>DARTS' DilConv: ReLU, a depthwise KxK conv with dilation 2, a 1x1 conv, BN.</summary>
    private static Layer[] DilatedSeparable(int inC, int outC, int k, int stride) =>
    [
        new ReluLayer(),
        new ConvLayer(inC, inC, k, k, stride, stride, Dilation: 2, Groups: inC),
        new ConvLayer(inC, outC, 1, 1),
        new BatchNormLayer(outC),
    ];

    private static Layer[] Pool(bool max, int k, int inC, int outC, int stride)
    {
        Layer pool = new PoolLayer(max, k, stride);
        return inC == outC ? [pool] : [pool, new ConvLayer(inC, outC, 1, 1), new BatchNormLayer(outC)];
    }

    private static Layer[] Separable(int inC, int outC, int k, int stride) =>
    [
        new ReluLayer(),
        new ConvLayer(inC, inC, k, k, stride, stride, Groups: inC),
        new ConvLayer(inC, outC, 1, 1),
        new BatchNormLayer(outC),
        new ReluLayer(),
        new ConvLayer(outC, outC, k, k, Groups: outC),
        new ConvLayer(outC, outC, 1, 1),
        new BatchNormLayer(outC),
    ];
}
