using NasActors.ChildTrainer.Networks;
using NasActors.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace NasActors.ChildTrainer.Kernels;

/// <summary>
/// Runs one <see cref="KernelCase"/> on a device in its precision and the same layer in float64
/// on the CPU (libtorch's own kernels: oneDNN computes no float64), with the same weights, input
/// and upstream gradient, and measures how far apart they are. Convolutions compute the reference
/// for <see cref="ReferenceImages"/> images only; the upstream gradient of the others is zero, so
/// the weight gradient has the same reference and the input gradient of the others must be zero.
/// </summary>
public static class ReferenceCheck
{
    public const int ReferenceImages = 2;

    /// <summary>float32 rounding stays near 1e-6 here; a wrong kernel is off by 1e-1 or NaN. bf16 keeps 8 bits.</summary>
    public static double Tolerance(Precision precision) => precision == Precision.Fp32 ? 1e-3 : 5e-2;

    public static CaseResult Run(KernelCase c, KernelPlan kernels, Device device, Precision precision, int seed)
    {
        using var scope = NewDisposeScope();
        var dtype = precision.ScalarType();
        using var generator = new Generator((ulong)seed);
        using var module = LayerModules.Build(c.Layer, kernels);
        using var reference = LayerModules.Build(c.Layer, KernelPlan.Reference);
        module.to(device).to(dtype).train();
        reference.to(float64).train();
        using (no_grad())
        {
            foreach (var (p, r) in module.parameters().Zip(reference.parameters()))
            {
                using var scale = Scale(p);
                p.copy_(randn(p.shape, float64, generator: generator).mul_(scale).to(dtype));
                r.copy_(p.detach().cpu());
            }
        }

        var n = c.Batch;
        var m = c.PerImage ? Math.Min(ReferenceImages, n) : n;
        // Inputs and gradients rounded to the precision first, so the reference sees the very same numbers.
        var x = randn([n, c.Input.Channels, c.Input.Height, c.Input.Width], float64, generator: generator).to(dtype);
        var input = PathConv2d.Layout(x.to(device), kernels.ChannelsLast).detach().requires_grad_(c.InputGrad);
        var y = module.forward(input);
        var g = randn(y.shape, float64, generator: generator);
        if (m < n) g.narrow(0, m, n - m).zero_();
        g = g.to(dtype);
        y.backward([g.to(device)]);

        var xr = x.narrow(0, 0, m).to(float64).detach().requires_grad_(c.InputGrad);
        var yr = reference.forward(xr);
        yr.backward([g.narrow(0, 0, m).to(float64)]);

        var output = Error(y.narrow(0, 0, m), yr);
        var inputGrad = c.InputGrad ? Error(input.grad!, m < n ? cat([xr.grad!, zeros([n - m, .. x.shape[1..]], float64)], 0) : xr.grad!) : 0;
        var weightGrad = module.parameters().Zip(reference.parameters())
            .Select(pr => Error(pr.First.grad!, pr.Second.grad!)).DefaultIfEmpty(0).Max();
        return new CaseResult(c, c.Conv is { } conv ? kernels.For(conv.Kind) : null, output, inputGrad, weightGrad, Tolerance(precision));
    }

    /// <summary>Weights of the usual size (1/sqrt(fan-in)); batch norm's scale near 1.</summary>
    private static Scalar Scale(Tensor p)
    {
        var fanIn = p.dim() > 1 ? p.shape.Skip(1).Aggregate(1L, (a, b) => a * b) : 1;
        return (p.dim() > 1 ? 1 / Math.Sqrt(fanIn) : 0.5).ToScalar();
    }

    /// <summary>Largest absolute difference over the reference's largest magnitude; infinity for NaN/inf.</summary>
    public static double Error(Tensor actual, Tensor reference)
    {
        using var scope = NewDisposeScope();
        var a = actual.detach().cpu().to(float64);
        if (!a.isfinite().all().item<bool>()) return double.PositiveInfinity;
        var diff = a.sub(reference.detach()).abs().max().item<double>();
        var scale = reference.detach().abs().max().item<double>();
        return scale > 0 ? diff / scale : diff;
    }
}
