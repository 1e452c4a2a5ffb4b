using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

// Usage: ConvFault [channels=1,2,4,8,16,20,24,32] [kernels=3x3,1x3,3x1,5x5,7x7,1x7,7x1] [strides=1,2] [dilations=1,2]
//                  [batch=32] [size=28] [depthwise=0] [channels_last=0] [mkldnn=1] [threads=0]
// Prints, per convolution, the relative max error of float32 against float64 for the output (y), the
// input gradient (dx) and the weight gradient (dw). float64 never takes oneDNN's path in libtorch.
var opts = args.Select(a => a.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
string Opt(string name, string fallback) => opts.TryGetValue(name, out var v) ? v : fallback;
int[] Ints(string name, string fallback) => Opt(name, fallback).Split(',').Select(int.Parse).ToArray();

var channels = Ints("channels", "1,2,4,8,16,20,24,32");
var kernels = Opt("kernels", "3x3,1x3,3x1,5x5,7x7,1x7,7x1").Split(',').Select(k => k.Split('x').Select(long.Parse).ToArray()).ToArray();
var strides = Ints("strides", "1,2");
var dilations = Ints("dilations", "1,2");
long batch = int.Parse(Opt("batch", "32")), size = int.Parse(Opt("size", "28"));
var depthwise = Opt("depthwise", "0") == "1";
var channelsLast = Opt("channels_last", "0") == "1";
if (Opt("mkldnn", "1") == "0") Native.SetMkldnn(false);
if (int.Parse(Opt("threads", "0")) is > 0 and var t) set_num_threads(t);
Console.WriteLine($"threads {get_num_threads()}, mkldnn {(Opt("mkldnn", "1") == "0" ? "off" : "on")}, batch {batch}, size {size}, {(depthwise ? "depthwise" : "dense")}, {(channelsLast ? "channels-last" : "NCHW")}");

manual_seed(0);
foreach (var k in kernels)
foreach (var stride in strides)
foreach (var dilation in dilations)
foreach (var c in channels)
{
    using var scope = NewDisposeScope();
    long groups = depthwise ? c : 1;
    long[] pad = [dilation * (k[0] - 1) / 2, dilation * (k[1] - 1) / 2];
    var x = randn(batch, c, size, size, dtype: ScalarType.Float64);
    var w = randn(c, c / groups, k[0], k[1], dtype: ScalarType.Float64);
    using (var scale = (1 / Math.Sqrt(c / groups * k[0] * k[1])).ToScalar()) w.mul_(scale);
    var (y64, dx64, dw64) = Run(x, w);
    var (y32, dx32, dw32) = Run(x.to(ScalarType.Float32), w.to(ScalarType.Float32));
    Console.WriteLine($"k{k[0]}x{k[1]} s{stride} d{dilation} c{c,3}: y {Err(y32, y64)}  dx {Err(dx32, dx64)}  dw {Err(dw32, dw64)}");

    (Tensor, Tensor, Tensor) Run(Tensor input, Tensor weight)
    {
        var xi = (channelsLast ? ChannelsLast(input) : input).detach().requires_grad_(true);
        var wi = (channelsLast ? ChannelsLast(weight) : weight).detach().requires_grad_(true);
        var y = nn.functional.conv2d(xi, wi, null, [stride, stride], pad, [dilation, dilation], groups);
        // A fixed upstream gradient: the same for both precisions.
        manual_seed(1);
        var g = randn(y.shape, dtype: ScalarType.Float64).to(y.dtype);
        y.backward([g]);
        return (y.detach(), xi.grad!, wi.grad!);
    }
}

// NCHW sizes with NHWC strides, as PyTorch's channels_last.
static Tensor ChannelsLast(Tensor t) => t.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);

static string Err(Tensor a, Tensor reference)
{
    if (!a.isfinite().all().item<bool>()) return "  NaN/inf";
    var e = a.to(ScalarType.Float64).sub(reference).abs().max().item<double>() / Math.Max(reference.abs().max().item<double>(), 1e-30);
    return $"{e,9:E1}{(e > 1e-4 ? "!" : " ")}";
}

static partial class Native
{
    [LibraryImport("libtorch_cpu.so", EntryPoint = "_ZN2at13globalContextEv")]
    private static partial IntPtr GlobalContext();

    [LibraryImport("libtorch_cpu.so", EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
    private static partial void SetUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    public static void SetMkldnn(bool enabled) => SetUserEnabledMkldnn(GlobalContext(), enabled);
}
