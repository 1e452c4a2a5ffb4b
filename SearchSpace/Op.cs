namespace NasActors.SearchSpace;

/// <summary>
/// Every operation a cell can use. The first 13 are the NASNet search space's (Zoph et al. 2017,
/// section 3), in its decision order; the rest are the ops published cells use that the NASNet
/// space has not: values are stored in runs, so new ops are only ever appended.
/// </summary>
public enum Op
{
    Identity,
    Conv1x3Then3x1,
    Conv1x7Then7x1,
    DilConv3x3,
    AvgPool3x3,
    MaxPool3x3,
    MaxPool5x5,
    MaxPool7x7,
    Conv1x1,
    Conv3x3,
    SepConv3x3,
    SepConv5x5,
    SepConv7x7,

    /// <summary>AmoebaNet's 1x7 then 7x1: a bottleneck (1x1 to F/4, 1x7, 7x1, 1x1 back to F).</summary>
    Conv1x7Then7x1Bottleneck,

    /// <summary>DARTS' dil_conv_3x3: one separable 3x3 conv with dilation 2 (depthwise, then 1x1).</summary>
    DilSepConv3x3,

    /// <summary>DARTS' dil_conv_5x5: one separable 5x5 conv with dilation 2.</summary>
    DilSepConv5x5,

    /// <summary>DARTS' skip_connect: identity; where it strides, a factorized reduction (not a strided 1x1 conv).</summary>
    SkipConnect,
}

/// <summary>How a block joins its two op outputs.</summary>
public enum Combine
{
    Add,
    Concat,
}

/// <summary>Canonical names: the only spelling accepted in files and shown to users.</summary>
public static class OpNames
{
    private static readonly string[] Names =
    [
        "identity", "conv_1x3_3x1", "conv_1x7_7x1", "dil_conv_3x3", "avg_pool_3x3",
        "max_pool_3x3", "max_pool_5x5", "max_pool_7x7", "conv_1x1", "conv_3x3",
        "sep_conv_3x3", "sep_conv_5x5", "sep_conv_7x7",
        "conv_1x7_7x1_bottleneck", "dil_sep_conv_3x3", "dil_sep_conv_5x5", "skip_connect",
    ];

    /// <summary>Every op there is; a search space decides with its own list (<see cref="SpaceDefinition.Ops"/>).</summary>
    public static IReadOnlyList<Op> All { get; } = Enum.GetValues<Op>();

    public static IReadOnlyList<string> AllNames => Names;

    public static string Name(this Op op) =>
        Enum.IsDefined(op) ? Names[(int)op] : throw new ArgumentOutOfRangeException(nameof(op), $"unknown op value {(int)op}");

    public static bool TryParse(string name, out Op op)
    {
        var index = Array.IndexOf(Names, name);
        op = (Op)Math.Max(index, 0);
        return index >= 0;
    }

    public static string Name(this Combine combine) => combine switch
    {
        Combine.Add => "add",
        Combine.Concat => "concat",
        _ => throw new ArgumentOutOfRangeException(nameof(combine), $"unknown combine value {(int)combine}"),
    };

    public static bool TryParseCombine(string name, out Combine combine)
    {
        combine = name == "concat" ? Combine.Concat : Combine.Add;
        return name is "add" or "concat";
    }
}
