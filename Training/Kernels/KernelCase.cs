using NasActors.Training.Networks;

namespace NasActors.Training.Kernels;

/// <summary>
/// One layer at one input shape and batch size, as a network computes it: in training (forward
/// and both gradients) or, with <see cref="Eval"/>, as the reward is computed (eval mode: batch
/// norm with running statistics, forward only). <see cref="InputGrad"/> is false for a network's
/// first layer (nothing asks for the image's gradient) and in eval mode.
/// </summary>
public sealed record KernelCase(Layer Layer, FeatureShape Input, int Batch, bool InputGrad = true, bool Eval = false)
{
    /// <summary>The same layer as the reward computes it, at the evaluation batch.</summary>
    public KernelCase Evaluated(int batch) => this with { Batch = batch, InputGrad = false, Eval = true };

    public string Mode => Eval ? "eval" : "train";

    /// <summary>The kernel family: the convolution's kind, or the layer's own kind.</summary>
    public string Family => Conv is { } c ? $"conv {KernelPlan.Name(c.Kind)}" : LayerName(Layer);

    /// <summary>The convolution this case computes, if it is one.</summary>
    public (ConvKind Kind, string Shape)? Conv => Layer switch
    {
        ConvLayer c => (KernelPlan.KindOf(c.KernelH, c.KernelW, c.Groups),
            $"{c.KernelH}x{c.KernelW} stride {c.StrideH}x{c.StrideW}{(c.Dilation > 1 ? $" dilation {c.Dilation}" : "")} {c.In}->{c.Out}"),
        ValidConvLayer v => (KernelPlan.KindOf(v.Kernel, v.Kernel, 1), $"{v.Kernel}x{v.Kernel} valid stride {v.Stride} {v.In}->{v.Out}"),
        _ => null,
    };

    /// <summary>
    /// Convolutions are independent per image, and so is every layer in eval mode (batch norm uses
    /// its running statistics), so their reference needs only some of the images.
    /// </summary>
    public bool PerImage => Eval || Layer is ConvLayer or ValidConvLayer;

    public override string ToString() =>
        $"{Conv?.Shape ?? LayerName(Layer)} on {Batch}x{Input}{(Eval ? " (eval)" : InputGrad ? "" : " (no input gradient)")}";

    public static string LayerName(Layer layer) => layer switch
    {
        ReluLayer => "relu",
        BatchNormLayer => "batch_norm",
        PoolLayer { Max: true } => "max_pool",
        PoolLayer => "avg_pool",
        ValidAvgPoolLayer => "avg_pool",
        FactorizedReduceLayer => "factorized_reduce",
        GlobalAvgPoolLayer => "global_avg_pool",
        DropoutLayer => "dropout",
        LinearLayer => "linear",
        ConvLayer or ValidConvLayer => "conv",
        _ => layer.GetType().Name,
    };
}

/// <summary>
/// How far one case computed on a device is from the float64 reference: the largest absolute
/// difference over the largest reference magnitude, for the output, the input gradient and the
/// parameters' gradients (infinity where a value is NaN or infinite), over the images compared.
/// </summary>
public sealed record CaseResult(KernelCase Case, ConvPath? Path, double Output, double InputGradient, double WeightGradient, double Tolerance,
    int ImagesCompared)
{
    public double Worst => Math.Max(Output, Math.Max(InputGradient, WeightGradient));
    public bool Right => Worst <= Tolerance;

    /// <summary>What is wrong, in a few words ("input gradient 3.1e-1").</summary>
    public string Wrong => string.Join(", ", new[] { ("output", Output), ("input gradient", InputGradient), ("weight gradient", WeightGradient) }
        .Where(p => p.Item2 > Tolerance).Select(p => $"{p.Item1} {Describe(p.Item2)}"));

    public static string Describe(double error) => double.IsPositiveInfinity(error) ? "NaN/inf" : error.ToString("0.0e+0");
}
