namespace NasActors.SearchSpace;

/// <summary>The 13 operations of the NASNet search space (Zoph et al. 2017, section 3).</summary>
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
    ];

    /// <summary>All ops in decision order (the controller's op index is the enum value).</summary>
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
