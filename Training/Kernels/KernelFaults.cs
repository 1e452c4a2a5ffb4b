using System.Diagnostics;
using NasActors.Protocol;
using NasActors.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace NasActors.Training.Kernels;

/// <summary>
/// A test-only fault: <c>NAS_INJECT_KERNEL_FAULT=DEVICE:KIND[/PATH][+EFFECT][@SECONDS|@/FILE]</c>
/// (e.g. <c>cpu:dense/nchw</c>, <c>cpu:dense+input-grad</c>, <c>cpu:dense@20</c>,
/// <c>cpu:dense@/tmp/drift</c>) makes that kind of convolution on that device (on one path, or on
/// every path) compute wrong, from SECONDS after the process started, or while FILE exists (a device
/// that drifts and recovers). EFFECT: <c>output</c> (the default) returns values 25% too large;
/// <c>input-grad</c> leaves the output and weight gradient right and makes the input gradient 25%
/// too large (what the Zen 5 CPU did); <c>late</c> makes the output 25% too large for the second
/// half of the batch only (a kernel that reads what it should not at later positions); <c>eval</c>
/// makes the output 25% too large only while no gradient is recorded (the reward's forward pass,
/// which inference kernels may compute). It stands in
/// for a machine that computes wrong, so the checks and the fallback can be exercised on any CPU.
/// float64, the reference's precision, is left alone.
/// </summary>
public sealed class KernelFaults
{
    public const string Variable = "NAS_INJECT_KERNEL_FAULT";
    private static readonly Scalar Factor = 1.25.ToScalar();
    private static readonly Stopwatch SinceStart = Stopwatch.StartNew();
    // Lazy: a malformed value surfaces as its own ArgumentException wherever it is first read.
    private static readonly Lazy<KernelFaults?> Injected = new(() => Parse(Environment.GetEnvironmentVariable(Variable)));

    private KernelFaults(string device, ConvKind kind, ConvPath? path, FaultEffect effect, TimeSpan after, string? whileFile) =>
        (Device, Kind, Path, Effect, After, WhileFile) = (device, kind, path, effect, after, whileFile);

    public string Device { get; }
    public FaultEffect Effect { get; }
    public ConvKind Kind { get; }
    public ConvPath? Path { get; }
    public TimeSpan After { get; }
    public string? WhileFile { get; }

    /// <summary>The fault that applies to this convolution now, if one was injected.</summary>
    public static KernelFaults? For(Tensor input, ConvKind kind, ConvPath path) =>
        Injected.Value is { } f && input.dtype != ScalarType.Float64 && f.Kind == kind && (f.Path ?? path) == path && SinceStart.Elapsed >= f.After
        && (f.WhileFile is null || File.Exists(f.WhileFile))
        && string.Equals(f.Device, input.device.ToString(), StringComparison.OrdinalIgnoreCase)
            ? f
            : null;

    /// <summary>Throws naming the variable when its value is malformed.</summary>
    public static void Validate() => _ = Injected.Value;

    /// <summary>The convolution's input as the fault sees it: the same values, its gradient scaled for <c>input-grad</c>.</summary>
    public Tensor OnInput(Tensor x)
    {
        if (Effect != FaultEffect.InputGrad || !x.requires_grad) return x;
        // x + (x - x)*f: exactly x forward; backward, the input gradient times f and nothing else.
        using var same = x.detach();
        return same.add(x.sub(same).mul(Factor), Scalars.One);
    }

    /// <summary>The convolution's output as the fault leaves it.</summary>
    public Tensor OnOutput(Tensor y)
    {
        switch (Effect)
        {
            case FaultEffect.Output:
            case FaultEffect.Eval when !is_grad_enabled():
                return y.mul(Factor);
            case FaultEffect.Late:
                var half = y.shape[0] / 2;
                using (var early = y.narrow(0, 0, half))
                using (var late = y.narrow(0, half, y.shape[0] - half))
                using (var wrong = late.mul(Factor))
                    return cat([early, wrong], 0);
            default:
                return y;
        }
    }

    public static KernelFaults? Parse(string? spec)
    {
        if (string.IsNullOrWhiteSpace(spec)) return null;
        var rest = spec.Trim();
        var after = TimeSpan.Zero;
        string? whileFile = null;
        if (rest.Split('@') is [var head, var when])
        {
            if (when.StartsWith('/')) whileFile = when;
            else if (double.TryParse(when, System.Globalization.CultureInfo.InvariantCulture, out var s) && s >= 0) after = TimeSpan.FromSeconds(s);
            else throw new InputException(Variable, $"\"{when}\" is neither a number of seconds nor an absolute file path");
            rest = head;
        }
        var effect = FaultEffect.Output;
        if (rest.Split('+') is [var spec2, var named])
        {
            effect = named.Trim().ToLowerInvariant() switch
            {
                "output" => FaultEffect.Output,
                "input-grad" => FaultEffect.InputGrad,
                "late" => FaultEffect.Late,
                "eval" => FaultEffect.Eval,
                _ => throw new InputException(Variable, $"unknown effect \"{named}\" (output, input-grad, late or eval)"),
            };
            rest = spec2;
        }
        var colon = rest.LastIndexOf(':');
        if (colon <= 0) throw new InputException(Variable, $"expected DEVICE:KIND[/PATH][+EFFECT][@SECONDS|@/FILE], got \"{spec}\"");
        var parts = rest[(colon + 1)..].Split('/');
        if (!Enum.TryParse<ConvKind>(parts[0], true, out var kind))
            throw new InputException(Variable, $"unknown kind \"{parts[0]}\" (pointwise, dense or depthwise)");
        ConvPath? path = null;
        if (parts.Length > 1)
            path = Enum.TryParse<ConvPath>(parts[1], true, out var p) ? p : throw new InputException(Variable, $"unknown path \"{parts[1]}\" (nchw, nhwc or unfold)");
        return new KernelFaults(rest[..colon], kind, path, effect, after, whileFile);
    }
}

/// <summary>What an injected fault gets wrong.</summary>
public enum FaultEffect
{
    Output,
    InputGrad,
    Late,
    Eval,
}
