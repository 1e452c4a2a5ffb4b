using NasActors.Training.Networks;
using NasActors.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace NasActors.Training.Kernels;

/// <summary>
/// Runs one <see cref="KernelCase"/> on a device in its precision and the same layer in float64
/// on the CPU (libtorch's own kernels: oneDNN computes no float64), with the same weights, running
/// statistics, input and upstream gradient, and measures how far apart they are. A batch of up to
/// <see cref="AllImagesUpTo"/> images is compared whole; a larger one where it computes image by
/// image (convolutions, and every layer in eval mode) is compared at its first and last image and
/// <see cref="RandomImages"/> others drawn from the case's seed: a kernel that goes wrong only at
/// later batch positions is caught at the last. The upstream gradient of the images not compared
/// is zero, so the weight gradient has the same reference and their input gradient must be zero.
/// Eval mode (the reward's forward pass) has no gradients: its output is compared.
/// </summary>
public static class ReferenceCheck
{
    public const int AllImagesUpTo = 4, RandomImages = 2;

    private static readonly Scalar Half = 0.5.ToScalar();

    /// <summary>float32 rounding stays near 1e-6 here; a wrong kernel is off by 1e-1 or NaN. bf16 keeps 8 bits.</summary>
    public static double Tolerance(Precision precision) => precision == Precision.Fp32 ? 1e-3 : 5e-2;

    /// <summary>The batch positions a case compares, in order.</summary>
    public static long[] ImagesCompared(KernelCase c, int seed)
    {
        var n = c.Batch;
        if (!c.PerImage || n <= AllImagesUpTo) return Enumerable.Range(0, n).Select(i => (long)i).ToArray();
        var random = new Random(seed);
        var middle = Enumerable.Range(1, n - 2).OrderBy(_ => random.Next()).Take(RandomImages);
        return middle.Append(0).Append(n - 1).Order().Select(i => (long)i).ToArray();
    }

    public static CaseResult Run(KernelCase c, KernelPlan kernels, Device device, Precision precision, int seed)
    {
        using var scope = NewDisposeScope();
        var dtype = precision.ScalarType();
        using var generator = new Generator((ulong)seed);
        using var module = LayerModules.Build(c.Layer, kernels);
        using var reference = LayerModules.Build(c.Layer, KernelPlan.Reference);
        module.to(device).to(dtype).train(!c.Eval);
        reference.to(float64).train(!c.Eval);
        using (no_grad())
        {
            foreach (var (p, r) in module.parameters().Zip(reference.parameters()))
            {
                using var scale = Scale(p);
                p.copy_(randn(p.shape, float64, generator: generator).mul_(scale).to(dtype));
                r.copy_(p.detach().cpu());
            }
            // Running statistics as a trained network holds them: eval mode normalizes with these.
            foreach (var ((name, b), (_, r)) in module.named_buffers().Zip(reference.named_buffers()).Where(b => b.First.buffer.is_floating_point()))
            {
                var value = rand(b.shape, float64, generator: generator);
                b.copy_((name.EndsWith("running_var", StringComparison.Ordinal) ? value.add_(Half, Scalars.One) : value.sub_(Half)).to(dtype));
                r.copy_(b.detach().cpu());
            }
        }

        var n = c.Batch;
        var images = ImagesCompared(c, seed);
        using var compared = tensor(images);
        using var comparedHere = compared.to(device);
        // Inputs and gradients rounded to the precision first, so the reference sees the very same numbers.
        var x = randn([n, c.Input.Channels, c.Input.Height, c.Input.Width], float64, generator: generator).to(dtype);
        var xr = x.index_select(0, compared).to(float64).detach();
        var path = c.Conv is { } conv ? kernels.For(conv.Kind) : (ConvPath?)null;
        if (c.Eval)
        {
            using var noGrad = no_grad();
            var output = Error(module.forward(PathConv2d.Layout(x.to(device), kernels.ChannelsLast)).index_select(0, comparedHere), reference.forward(xr));
            return new CaseResult(c, path, output, 0, 0, Tolerance(precision), images.Length);
        }

        var input = PathConv2d.Layout(x.to(device), kernels.ChannelsLast).detach().requires_grad_(c.InputGrad);
        var y = module.forward(input);
        var drawn = randn(y.shape, float64, generator: generator);
        var g = images.Length < n ? zeros_like(drawn).index_copy_(0, compared, drawn.index_select(0, compared)) : drawn;
        g = g.to(dtype);
        y.backward([g.to(device)]);

        xr.requires_grad_(c.InputGrad);
        var yr = reference.forward(xr);
        yr.backward([g.index_select(0, compared).to(float64)]);

        var outputError = Error(y.index_select(0, comparedHere), yr);
        var inputGrad = c.InputGrad
            ? Error(input.grad!, images.Length < n ? zeros(x.shape, float64).index_copy_(0, compared, xr.grad!) : xr.grad!)
            : 0;
        var weightGrad = module.parameters().Zip(reference.parameters())
            .Select(pr => Error(pr.First.grad!, pr.Second.grad!)).DefaultIfEmpty(0).Max();
        return new CaseResult(c, path, outputError, inputGrad, weightGrad, Tolerance(precision), images.Length);
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
