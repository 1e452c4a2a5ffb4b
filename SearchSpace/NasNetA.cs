namespace NasActors.SearchSpace;

/// <summary>
/// The published NASNet-A cells (Zoph et al. 2017, figure 4), with their explicit output sets:
/// normal = h_{i-1} and all five blocks, reduction = blocks 1-4.
/// </summary>
public static class NasNetA
{
    private const int Hi = 0;
    private const int HiMinus1 = 1;

    public static Cell Normal { get; } = new(
        [
            new Block(Hi, HiMinus1, Op.SepConv5x5, Op.SepConv3x3, Combine.Add),
            new Block(HiMinus1, HiMinus1, Op.SepConv5x5, Op.SepConv3x3, Combine.Add),
            new Block(Hi, HiMinus1, Op.AvgPool3x3, Op.Identity, Combine.Add),
            new Block(HiMinus1, HiMinus1, Op.AvgPool3x3, Op.AvgPool3x3, Combine.Add),
            new Block(Hi, Hi, Op.SepConv3x3, Op.Identity, Combine.Add),
        ],
        [1, 2, 3, 4, 5, 6]);

    public static Cell Reduction { get; } = new(
        [
            new Block(Hi, HiMinus1, Op.SepConv5x5, Op.SepConv7x7, Combine.Add),
            new Block(Hi, HiMinus1, Op.MaxPool3x3, Op.SepConv7x7, Combine.Add),
            new Block(Hi, HiMinus1, Op.AvgPool3x3, Op.SepConv5x5, Combine.Add),
            new Block(2, 3, Op.AvgPool3x3, Op.Identity, Combine.Add),
            new Block(2, Hi, Op.SepConv3x3, Op.MaxPool3x3, Combine.Add),
        ],
        [3, 4, 5, 6]);

    public static Genotype Genotype { get; } = new(Normal, Reduction);
}
