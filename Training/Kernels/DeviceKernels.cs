using System.Diagnostics;
using NasActors.Training.Networks;
using NasActors.Protocol;
using NasActors.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace NasActors.Training.Kernels;

/// <summary>What <c>NAS_CPU_KERNELS</c> asks of CPU convolutions.</summary>
public enum KernelMode
{
    /// <summary>Check, and route each kind of convolution that computes wrong to a path that computes right.</summary>
    Auto,

    /// <summary>oneDNN as libtorch uses it, no fallback (a kind that computes wrong makes the device unhealthy).</summary>
    OneDnn,

    /// <summary>oneDNN off for the whole process: libtorch's own convolutions (slow).</summary>
    Native,
}

/// <summary>A device computes wrong on every path there is; the message names the kernel and shape.</summary>
public sealed class DeviceFaultException(string message) : Exception(message);

/// <summary>
/// A device's check: the path each kind of convolution takes there, every case run and its error,
/// and, for a device that computes wrong on every path, what is wrong (<see cref="Problem"/>).
/// </summary>
public sealed record DeviceCheck(string Device, Precision Precision, KernelMode Mode, KernelPlan? Plan, IReadOnlyList<CaseResult> Results,
    string? Problem, IReadOnlyList<string> Fallbacks, double Seconds)
{
    public bool Healthy => Problem is null;
}

/// <summary>
/// Proves a device's kernels against float64 before it trains, and keeps what it found per
/// process, device, precision and memory order. Each kind of convolution takes the first path
/// that computes right: the network's own memory order, then the other one, then patches and a
/// matrix product; a kind found wrong on a path (by the probe, or later at a network's own
/// shapes) does not take that path again until a check anew. Thread-safe; checks run one at a time.
/// </summary>
public static class DeviceKernels
{
    public const string ModeVariable = "NAS_CPU_KERNELS";

    private static readonly Lock Gate = new();
    private static readonly Dictionary<Key, State> States = new();
    private static KernelMode? mode;

    private sealed record Key(string Device, Precision Precision, bool ChannelsLast);

    /// <summary>What this process knows of one device: its latest check, the paths found wrong, the cases proven right.</summary>
    private sealed class State
    {
        public required DeviceCheck Check;
        public readonly HashSet<(ConvKind, ConvPath)> Wrong = new();
        public readonly HashSet<(KernelCase, ConvPath?)> Proven = new();
        public bool Announced;
    }

    /// <summary>A line worth one look by whoever runs the process (a fallback taken).</summary>
    private static void Notice(string line) => Console.Error.WriteLine(line);

    /// <summary>The mode <c>NAS_CPU_KERNELS</c> names (default auto); throws naming the variable when it names none.</summary>
    public static KernelMode Mode
    {
        get
        {
            lock (Gate)
            {
                if (mode is { } m) return m;
                var value = Environment.GetEnvironmentVariable(ModeVariable);
                mode = value?.Trim().ToLowerInvariant() switch
                {
                    null or "" or "auto" => KernelMode.Auto,
                    "onednn" => KernelMode.OneDnn,
                    "native" => KernelMode.Native,
                    _ => throw new InputException($"{ModeVariable} must be auto, onednn or native, not \"{value}\""),
                };
                if (mode == KernelMode.Native) OneDnnSettings.Enabled = false;
                // The float64 references (and native mode) would otherwise log NNPACK's failure to start, once per convolution.
                NnpackSettings.Disable();
                return mode.Value;
            }
        }
    }

    /// <summary>
    /// The device's check: run now if this process has not run it yet, or <paramref name="again"/>:
    /// anew, every path proven afresh (a device that drifted may compute right again, or wrong now),
    /// and every network layer proven again before it trains.
    /// </summary>
    public static DeviceCheck Check(Device device, Precision precision = Precision.Fp32, bool channelsLast = false, bool again = false)
    {
        var key = new Key(device.ToString(), precision, channelsLast);
        lock (Gate)
        {
            if (!again && States.TryGetValue(key, out var known)) return known.Check;
            var state = States.TryGetValue(key, out var s) ? s : null;
            state?.Wrong.Clear();
            var check = Probe(device, precision, channelsLast, state?.Wrong ?? new HashSet<(ConvKind, ConvPath)>());
            if (state is null) States[key] = new State { Check = check };
            else
            {
                // The same paths as before are not said again.
                state.Announced &= check.Plan == state.Check.Plan;
                state.Check = check;
                state.Proven.Clear();
            }
            return check;
        }
    }

    /// <summary>
    /// The first probe case that <paramref name="plan"/>, taken as it is, computes wrong on this
    /// device (null: every kind is right on its path): a forced path is timed, never trusted.
    /// </summary>
    public static CaseResult? Verify(KernelPlan plan, Device device, Precision precision)
    {
        _ = Mode;
        KernelFaults.Validate();
        lock (Gate)
            return Enum.GetValues<ConvKind>().SelectMany(KernelProbe.Convolutions)
                .Select((c, i) => ReferenceCheck.Run(c, plan, device, precision, seed: i))
                .FirstOrDefault(r => !r.Right);
    }

    /// <summary>A device before it takes work: resolved, and its kernels right (or a fallback found) in fp32.</summary>
    public static void RequireRight(string device)
    {
        var check = Check(TorchRuntime.ParseDevice(device));
        if (!check.Healthy) throw new DeviceFaultException(check.Problem!);
    }

    /// <summary>
    /// The kernel plan to build <paramref name="plan"/> with on this device, after checking each of
    /// its layers at its own shapes, in training at <paramref name="batch"/> and in eval mode at
    /// <paramref name="evalBatch"/> (once per process). Throws <see cref="DeviceFaultException"/>
    /// when a kernel it needs computes wrong on every path.
    /// </summary>
    public static KernelPlan Prepare(NetworkPlan plan, int batch, int evalBatch, Device device, Precision precision = Precision.Fp32, bool channelsLast = false)
    {
        var check = Check(device, precision, channelsLast);
        var key = new Key(device.ToString(), precision, channelsLast);
        lock (Gate)
        {
            var state = States[key];
            while (true)
            {
                if (state.Check.Problem is { } problem) throw new DeviceFaultException(problem);
                // The fallbacks are said once, when the first network is built with them (not by a preflight).
                if (!state.Announced)
                    foreach (var line in state.Check.Fallbacks) Notice($"nas: {line}");
                state.Announced = true;
                var kernels = state.Check.Plan!;
                var failed = KernelProbe.Of(plan, batch, evalBatch)
                    .Select(c => (Case: c, Path: c.Conv is { } conv ? kernels.For(conv.Kind) : (ConvPath?)null))
                    .Where(c => !state.Proven.Contains(c))
                    .Select(c =>
                    {
                        var r = ReferenceCheck.Run(c.Case, kernels, device, precision, seed: state.Proven.Count);
                        if (r.Right) state.Proven.Add(c);
                        return r;
                    })
                    .FirstOrDefault(r => !r.Right);
                if (failed is null) return kernels;
                if (failed.Case.Conv is not { } wrongConv)
                    throw new DeviceFaultException($"{device}: {failed.Case.Family} computes wrong at {failed.Case} ({failed.Wrong})");
                // A kind wrong at this network's shapes on its path: never that path again; choose anew.
                state.Wrong.Add((wrongConv.Kind, failed.Path!.Value));
                Notice($"nas: {device}: {failed.Case.Family} {KernelPlan.Name(failed.Path.Value)} computes wrong at {failed.Case} ({failed.Wrong}); choosing another path");
                state.Check = Probe(device, precision, channelsLast, state.Wrong);
                state.Proven.Clear();
                state.Announced = false;
            }
        }
    }

    /// <summary>
    /// The paths a kind of convolution may take, best first. On a CPU a pointwise convolution tries
    /// NCHW first in either memory order: oneDNN's NHWC 1x1 kernels computed wrong on AMD Zen 5
    /// and Zen 3, and on Zen 3 with one thread, run once by the probe, broke the process's heap
    /// (docs/decisions.md); a probe must not run them where another path is right.
    /// </summary>
    private static ConvPath[] Candidates(Device device, ConvKind kind, bool channelsLast, KernelMode mode)
    {
        var own = KernelPlan.LayoutPath(channelsLast);
        if (device.type == DeviceType.CPU && mode != KernelMode.Auto) return [own];
        var first = device.type == DeviceType.CPU && kind == ConvKind.Pointwise ? ConvPath.Nchw : own;
        return [first, first == ConvPath.Nchw ? ConvPath.Nhwc : ConvPath.Nchw, ConvPath.Unfold];
    }

    private static DeviceCheck Probe(Device device, Precision precision, bool channelsLast, HashSet<(ConvKind, ConvPath)> wrong)
    {
        // Read first: native mode switches oneDNN off before anything runs.
        var mode = Mode;
        KernelFaults.Validate();
        var clock = Stopwatch.StartNew();
        var kernels = KernelPlan.InLayout(channelsLast);
        var results = new List<CaseResult>();
        var fallbacks = new List<string>();
        string? problem = null;
        var seed = 0;
        foreach (var kind in Enum.GetValues<ConvKind>())
        {
            ConvPath? chosen = null;
            CaseResult? firstWrong = null;
            foreach (var path in Candidates(device, kind, channelsLast, mode).Where(p => !wrong.Contains((kind, p))))
            {
                var plan = kernels.With(kind, path);
                var wrongHere = KernelProbe.Convolutions(kind).Select(c => ReferenceCheck.Run(c, plan, device, precision, seed++))
                    .Select(r => { results.Add(r); return r; })
                    .FirstOrDefault(r => !r.Right);
                if (wrongHere is null)
                {
                    chosen = path;
                    break;
                }
                wrong.Add((kind, path));
                firstWrong ??= wrongHere;
            }
            if (chosen is { } p)
            {
                kernels = kernels.With(kind, p);
                if (firstWrong is not null)
                    fallbacks.Add($"{device}: {firstWrong.Case.Family} convolutions compute wrong on path {KernelPlan.Name(firstWrong.Path!.Value)} " +
                                  $"({firstWrong.Case}: {firstWrong.Wrong}); they take path {KernelPlan.Name(p)} ({ModeVariable}={mode.ToString().ToLowerInvariant()})");
            }
            else
            {
                var why = firstWrong is null ? "every path was found wrong earlier" : $"{firstWrong.Case}: {firstWrong.Wrong}";
                problem ??= $"{device}: {KernelPlan.Name(kind)} convolutions compute wrong on every path allowed ({ModeVariable}={mode.ToString().ToLowerInvariant()}; {why})";
            }
        }
        foreach (var c in KernelProbe.Others())
        {
            var r = ReferenceCheck.Run(c, kernels, device, precision, seed++);
            results.Add(r);
            if (!r.Right) problem ??= $"{device}: {c.Family} computes wrong ({c}: {r.Wrong})";
        }
        return new DeviceCheck(device.ToString(), precision, mode, problem is null ? kernels : null, results, problem, fallbacks, clock.Elapsed.TotalSeconds);
    }
}
