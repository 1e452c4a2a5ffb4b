namespace NasActors.Training.Kernels;

/// <summary>The three kinds of convolution our networks use; each kind is checked and routed as a whole.</summary>
public enum ConvKind
{
    /// <summary>1x1, one group (adapters, factorized reductions, separable convs' second half).</summary>
    Pointwise,

    /// <summary>k x k or 1 x k / k x 1 with one group (conv_3x3, dil_conv_3x3, the asymmetric pairs, stems).</summary>
    Dense,

    /// <summary>One group per channel (separable convs' first half).</summary>
    Depthwise,
}

/// <summary>How a convolution is computed.</summary>
public enum ConvPath
{
    /// <summary>libtorch's convolution on NCHW tensors (oneDNN's blocked kernels on CPU, cuDNN on CUDA).</summary>
    Nchw,

    /// <summary>libtorch's convolution on channels-last (NHWC) tensors (oneDNN's NHWC kernels on CPU).</summary>
    Nhwc,

    /// <summary>Patches and a matrix product (unfold + matmul): no convolution library at all.</summary>
    Unfold,
}

/// <summary>
/// The path each kind of convolution takes in a network built for one device, and the memory
/// order the network itself runs in (<see cref="ChannelsLast"/>).
/// </summary>
public sealed record KernelPlan(bool ChannelsLast, ConvPath Pointwise, ConvPath Dense, ConvPath Depthwise)
{
    /// <summary>Every convolution in the network's own memory order (what libtorch does by itself).</summary>
    public static KernelPlan InLayout(bool channelsLast)
    {
        var path = LayoutPath(channelsLast);
        return new(channelsLast, path, path, path);
    }

    /// <summary>How the float64 reference computes: libtorch's own NCHW convolution (oneDNN has no float64 kernels).</summary>
    public static readonly KernelPlan Reference = InLayout(false);

    public static ConvPath LayoutPath(bool channelsLast) => channelsLast ? ConvPath.Nhwc : ConvPath.Nchw;

    public ConvPath For(ConvKind kind) => kind switch
    {
        ConvKind.Pointwise => Pointwise,
        ConvKind.Dense => Dense,
        _ => Depthwise,
    };

    public KernelPlan With(ConvKind kind, ConvPath path) => kind switch
    {
        ConvKind.Pointwise => this with { Pointwise = path },
        ConvKind.Dense => this with { Dense = path },
        _ => this with { Depthwise = path },
    };

    public static ConvKind KindOf(int kernelH, int kernelW, int groups) =>
        groups > 1 ? ConvKind.Depthwise : kernelH * kernelW == 1 ? ConvKind.Pointwise : ConvKind.Dense;

    public static string Name(ConvKind kind) => kind.ToString().ToLowerInvariant();

    public static string Name(ConvPath path) => path.ToString().ToLowerInvariant();

    public override string ToString() =>
        (ChannelsLast ? "channels-last network: " : "") + string.Join(", ", Enum.GetValues<ConvKind>().Select(k => $"{Name(k)} {Name(For(k))}"));
}
