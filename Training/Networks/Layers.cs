using System.Text.Json.Serialization;

namespace NasActors.Training.Networks;

/// <summary>Channels and spatial size of a feature map (batch left out).</summary>
public readonly record struct FeatureShape(int Channels, int Height, int Width)
{
    public override string ToString() => $"{Channels}x{Height}x{Width}";
}

/// <summary>
/// A primitive layer of a planned network. The TorchSharp builder and the cost counter both
/// read these, so a network's counted size is the size of the network that gets built; the
/// JSON form (<c>nas model --plan</c>) lets another framework build the very same network.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
[JsonDerivedType(typeof(ReluLayer), "relu")]
[JsonDerivedType(typeof(ConvLayer), "conv")]
[JsonDerivedType(typeof(ValidConvLayer), "valid_conv")]
[JsonDerivedType(typeof(BatchNormLayer), "batch_norm")]
[JsonDerivedType(typeof(PoolLayer), "pool")]
[JsonDerivedType(typeof(ValidAvgPoolLayer), "valid_avg_pool")]
[JsonDerivedType(typeof(FactorizedReduceLayer), "factorized_reduce")]
[JsonDerivedType(typeof(GlobalAvgPoolLayer), "global_avg_pool")]
[JsonDerivedType(typeof(DropoutLayer), "dropout")]
[JsonDerivedType(typeof(LinearLayer), "linear")]
public abstract record Layer
{
    public abstract FeatureShape Output(FeatureShape input);

    /// <summary>Learnable parameters.</summary>
    public abstract long Parameters { get; }

    /// <summary>Multiply-adds for one image (convolutions and linear layers; the usual convention).</summary>
    public virtual long MultAdds(FeatureShape input) => 0;

    protected static int OutSize(int size, int kernel, int stride, int padding, int dilation = 1) =>
        (size + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1;
}

public sealed record ReluLayer : Layer
{
    public override FeatureShape Output(FeatureShape input) => input;
    public override long Parameters => 0;
}

/// <summary>A bias-free convolution (every conv here is followed by batch norm).</summary>
public sealed record ConvLayer(int In, int Out, int KernelH, int KernelW, int StrideH = 1, int StrideW = 1, int Dilation = 1, int Groups = 1) : Layer
{
    public int PadH => Dilation * (KernelH - 1) / 2;
    public int PadW => Dilation * (KernelW - 1) / 2;

    public override FeatureShape Output(FeatureShape input)
    {
        if (input.Channels != In)
            throw new InvalidOperationException($"conv expects {In} channels, got {input.Channels}");
        return new(Out, OutSize(input.Height, KernelH, StrideH, PadH, Dilation), OutSize(input.Width, KernelW, StrideW, PadW, Dilation));
    }

    public override long Parameters => (long)KernelH * KernelW * (In / Groups) * Out;

    public override long MultAdds(FeatureShape input)
    {
        var o = Output(input);
        return Parameters * o.Height * o.Width;
    }
}

/// <summary>A valid (unpadded) convolution, as in the ImageNet stem and the auxiliary head.</summary>
public sealed record ValidConvLayer(int In, int Out, int Kernel, int Stride) : Layer
{
    public override FeatureShape Output(FeatureShape input) =>
        new(Out, OutSize(input.Height, Kernel, Stride, 0), OutSize(input.Width, Kernel, Stride, 0));

    public override long Parameters => (long)Kernel * Kernel * In * Out;

    public override long MultAdds(FeatureShape input)
    {
        var o = Output(input);
        return Parameters * o.Height * o.Width;
    }
}

public sealed record BatchNormLayer(int Channels) : Layer
{
    public override FeatureShape Output(FeatureShape input) => input;
    public override long Parameters => 2L * Channels;
}

/// <summary>Same-padded pooling (average pools ignore the padding).</summary>
public sealed record PoolLayer(bool Max, int Kernel, int Stride) : Layer
{
    public override FeatureShape Output(FeatureShape input) =>
        input with { Height = OutSize(input.Height, Kernel, Stride, Kernel / 2), Width = OutSize(input.Width, Kernel, Stride, Kernel / 2) };

    public override long Parameters => 0;
}

/// <summary>Unpadded average pooling (auxiliary head).</summary>
public sealed record ValidAvgPoolLayer(int Kernel, int Stride) : Layer
{
    public override FeatureShape Output(FeatureShape input) =>
        input with { Height = OutSize(input.Height, Kernel, Stride, 0), Width = OutSize(input.Width, Kernel, Stride, 0) };

    public override long Parameters => 0;
}

/// <summary>
/// Factorized reduction (NASNet): ReLU, then two stride-2 1x1 convs, the second on the input
/// shifted by one pixel, concatenated to <see cref="Out"/> channels, then batch norm.
/// </summary>
public sealed record FactorizedReduceLayer(int In, int Out) : Layer
{
    public int FirstHalf => Out / 2;

    public override FeatureShape Output(FeatureShape input) =>
        new(Out, (input.Height + 1) / 2, (input.Width + 1) / 2);

    public override long Parameters => (long)In * Out + 2L * Out;

    public override long MultAdds(FeatureShape input)
    {
        var o = Output(input);
        return (long)In * Out * o.Height * o.Width;
    }
}

public sealed record GlobalAvgPoolLayer : Layer
{
    public override FeatureShape Output(FeatureShape input) => new(input.Channels, 1, 1);
    public override long Parameters => 0;
}

public sealed record DropoutLayer(double Probability) : Layer
{
    public override FeatureShape Output(FeatureShape input) => input;
    public override long Parameters => 0;
}

public sealed record LinearLayer(int In, int Out) : Layer
{
    public override FeatureShape Output(FeatureShape input) =>
        input.Channels * input.Height * input.Width == In
            ? new(Out, 1, 1)
            : throw new InvalidOperationException($"linear expects {In} features, got {input}");

    public override long Parameters => (long)In * Out + Out;
    public override long MultAdds(FeatureShape input) => (long)In * Out;
}

public static class LayerSequence
{
    public static FeatureShape Output(this IEnumerable<Layer> layers, FeatureShape input) =>
        layers.Aggregate(input, (shape, layer) => layer.Output(shape));

    public static long Parameters(this IEnumerable<Layer> layers) => layers.Sum(l => l.Parameters);

    public static long MultAdds(this IEnumerable<Layer> layers, FeatureShape input)
    {
        long total = 0;
        foreach (var l in layers)
        {
            total += l.MultAdds(input);
            input = l.Output(input);
        }
        return total;
    }
}
