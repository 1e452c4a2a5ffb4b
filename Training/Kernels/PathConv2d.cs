using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasActors.Training.Kernels;

/// <summary>
/// A bias-free 2-D convolution computed along a chosen <see cref="ConvPath"/>. Its one parameter
/// is named and initialised as <c>nn.Conv2d</c>'s, so checkpoints and seeded runs are unchanged.
/// The input keeps the network's memory order: a path in the other order converts on the way in
/// and out, so the layers around it never notice.
/// </summary>
public sealed class PathConv2d : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly long[] kernel, stride, padding, dilation;
    private readonly long groups;
    private readonly bool networkChannelsLast;

    public PathConv2d(long inChannels, long outChannels, (long H, long W) kernelSize, (long H, long W) stride, (long H, long W) padding,
        long dilation, long groups, ConvPath path, bool networkChannelsLast) : base(nameof(PathConv2d))
    {
        // nn.Conv2d draws its initial weight; taking it keeps every seeded network as before.
        using (var init = nn.Conv2d(inChannels, outChannels, kernelSize, stride: stride, padding: padding,
                   dilation: (dilation, dilation), groups: groups, bias: false))
            weight = new Parameter(init.weight!.detach().clone());
        kernel = [kernelSize.H, kernelSize.W];
        this.stride = [stride.H, stride.W];
        this.padding = [padding.H, padding.W];
        this.dilation = [dilation, dilation];
        this.groups = groups;
        Path = path;
        this.networkChannelsLast = networkChannelsLast;
        RegisterComponents();
    }

    public ConvPath Path { get; }

    public override Tensor forward(Tensor x)
    {
        var fault = KernelFaults.For(x, KernelPlan.KindOf((int)kernel[0], (int)kernel[1], (int)groups), Path);
        if (fault is not null) x = fault.OnInput(x);
        var y = Path switch
        {
            ConvPath.Unfold => Unfolded(x),
            _ when Path == KernelPlan.LayoutPath(networkChannelsLast) => nn.functional.conv2d(x, weight, null, stride, padding, dilation, groups),
            _ => InOtherLayout(x),
        };
        return fault is null ? y : fault.OnOutput(y);
    }

    private Tensor InOtherLayout(Tensor x)
    {
        using var scope = NewDisposeScope();
        var toNhwc = Path == ConvPath.Nhwc;
        var y = nn.functional.conv2d(Layout(x, toNhwc), Layout(weight, toNhwc), null, stride, padding, dilation, groups);
        return Layout(y, networkChannelsLast).MoveToOuterDisposeScope();
    }

    /// <summary>The same NCHW-shaped tensor with NHWC (channels-last) or NCHW strides.</summary>
    public static Tensor Layout(Tensor t, bool channelsLast) =>
        channelsLast ? t.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2) : t.contiguous();

    /// <summary>
    /// im2col: every receptive field as a column, then one batched matrix product per group
    /// (libtorch's unfold/fold and BLAS; gradients follow through both).
    /// </summary>
    private Tensor Unfolded(Tensor x)
    {
        using var scope = NewDisposeScope();
        var (n, h, w) = (x.shape[0], x.shape[2], x.shape[3]);
        var outH = (h + 2 * padding[0] - dilation[0] * (kernel[0] - 1) - 1) / stride[0] + 1;
        var outW = (w + 2 * padding[1] - dilation[1] * (kernel[1] - 1) - 1) / stride[1] + 1;
        var cols = nn.functional.unfold(x.contiguous(), (kernel[0], kernel[1]), (dilation[0], dilation[1]), (padding[0], padding[1]), (stride[0], stride[1]));
        var outC = weight.shape[0];
        // cols: N x (C*kh*kw) x L, grouped as N x G x (C/G*kh*kw) x L; weight: G x (Out/G) x (C/G*kh*kw).
        var grouped = cols.view(n, groups, -1, outH * outW);
        var w2 = weight.view(groups, outC / groups, -1);
        var y = w2.matmul(grouped).view(n, outC, outH, outW);
        return (networkChannelsLast ? Layout(y, true) : y).MoveToOuterDisposeScope();
    }
}
