using TorchSharp;
using static TorchSharp.torch;

namespace NasActors.Training;

/// <summary>A device that was asked for but is not there; the message says why.</summary>
public sealed class DeviceUnavailableException(string message, bool malformed = false) : Exception(message)
{
    /// <summary>The text names no device at all ("gpu", "cuda:x"): invalid input, not a missing device.</summary>
    public bool Malformed { get; } = malformed;
}

/// <summary>Resolves device names (<c>cpu</c>, <c>cuda</c>, <c>cuda:N</c>) against the loaded libtorch.</summary>
public static class TorchRuntime
{
    public static Device ParseDevice(string spec)
    {
        var s = spec.Trim().ToLowerInvariant();
        if (s == "cpu") return CPU;
        if (s != "cuda" && !s.StartsWith("cuda:", StringComparison.Ordinal))
            throw new DeviceUnavailableException($"unknown device \"{spec}\" (expected cpu, cuda or cuda:N)", malformed: true);
        var index = 0;
        if (s.Length > 4 && (!int.TryParse(s[5..], out index) || index < 0))
            throw new DeviceUnavailableException($"bad device \"{spec}\": the index after cuda: must be a number", malformed: true);
        try
        {
            InitializeDeviceType(DeviceType.CUDA);
        }
        catch (Exception e) when (e is not DeviceUnavailableException)
        {
            // TorchSharp appends a page of probing trace to its message: its first sentence says what failed.
            var why = e.Message.Split('\n')[0].Split(" Trace from", StringSplitOptions.None)[0].Trim();
            throw new DeviceUnavailableException($"device {spec}: libtorch with CUDA could not be loaded ({why}). " + CudaHint);
        }
        if (!cuda.is_available())
            throw new DeviceUnavailableException($"device {spec}: CUDA is not available to this libtorch. " + CudaHint);
        var count = cuda.device_count();
        if (index >= count)
            throw new DeviceUnavailableException($"device {spec}: only {count} CUDA device(s) present (cuda:0..cuda:{count - 1})");
        return new Device(DeviceType.CUDA, index);
    }

    private const string CudaHint =
        "The default build uses TorchSharp-cpu; on a GPU machine run nas with NAS_TORCH_BACKEND=system to load an installed PyTorch's libtorch (see README).";
}
