using NasActors.Training.Kernels;
using static TorchSharp.torch;

namespace NasActors.Training.Networks;

/// <summary>
/// Instantiates planned layers as TorchSharp modules; each convolution takes the path that
/// <paramref name="kernels"/> gives its kind (checked right on the device it will run on).
/// </summary>
public static class LayerModules
{
    public static nn.Module<Tensor, Tensor> Build(IReadOnlyList<Layer> layers, KernelPlan kernels) =>
        layers.Count == 0
            ? nn.Identity()
            : nn.Sequential(layers.Select((l, i) => ($"{i}", Build(l, kernels))).ToArray());

    public static nn.Module<Tensor, Tensor> Build(Layer layer, KernelPlan kernels) => layer switch
    {
        ReluLayer => nn.ReLU(),
        ConvLayer c => new PathConv2d(c.In, c.Out, (c.KernelH, c.KernelW), (c.StrideH, c.StrideW), (c.PadH, c.PadW), c.Dilation, c.Groups,
            kernels.For(KernelPlan.KindOf(c.KernelH, c.KernelW, c.Groups)), kernels.ChannelsLast),
        ValidConvLayer c => new PathConv2d(c.In, c.Out, (c.Kernel, c.Kernel), (c.Stride, c.Stride), (0, 0), 1, 1,
            kernels.For(KernelPlan.KindOf(c.Kernel, c.Kernel, 1)), kernels.ChannelsLast),
        BatchNormLayer b => new BatchNorm(b.Channels, eps: 1e-3, momentum: 0.1),
        PoolLayer { Max: true } p => nn.MaxPool2d(p.Kernel, p.Stride, p.Kernel / 2),
        PoolLayer p => nn.AvgPool2d(p.Kernel, p.Stride, p.Kernel / 2, count_include_pad: false),
        ValidAvgPoolLayer p => nn.AvgPool2d(p.Kernel, p.Stride),
        FactorizedReduceLayer f => new FactorizedReduce(f, kernels),
        GlobalAvgPoolLayer => nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()),
        DropoutLayer d => d.Probability > 0 ? nn.Dropout(d.Probability) : nn.Identity(),
        LinearLayer l => nn.Sequential(nn.Flatten(), nn.Linear(l.In, l.Out)),
        _ => throw new ArgumentOutOfRangeException(nameof(layer), layer, "no module for this layer"),
    };
}

/// <summary>Two stride-2 1x1 convs on the input and on the input shifted by one pixel, concatenated.</summary>
internal sealed class FactorizedReduce : nn.Module<Tensor, Tensor>
{
    private readonly PathConv2d path1;
    private readonly PathConv2d path2;
    private readonly BatchNorm bn;

    public FactorizedReduce(FactorizedReduceLayer layer, KernelPlan kernels) : base(nameof(FactorizedReduce))
    {
        var path = kernels.For(ConvKind.Pointwise);
        path1 = new PathConv2d(layer.In, layer.FirstHalf, (1, 1), (2, 2), (0, 0), 1, 1, path, kernels.ChannelsLast);
        path2 = new PathConv2d(layer.In, layer.Out - layer.FirstHalf, (1, 1), (2, 2), (0, 0), 1, 1, path, kernels.ChannelsLast);
        bn = new BatchNorm(layer.Out, eps: 1e-3, momentum: 0.1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var a = path1.forward(x);
        // Shift by one pixel (pad right/bottom, drop the first row/column) so the second path
        // samples the pixels the first one skips.
        var shifted = nn.functional.pad(x, [0, 1, 0, 1])[.., .., 1.., 1..];
        var b = path2.forward(shifted);
        return bn.forward(cat([a, b], 1)).MoveToOuterDisposeScope();
    }
}
