using System.Runtime.InteropServices;

namespace NasActors.Tensors;

/// <summary>
/// Switches on libtorch's global context that TorchSharp 0.107 does not expose. They are C++
/// member functions: on x86-64 Linux the context is their first argument. Process-wide, like
/// PyTorch's flags.
/// </summary>
internal static partial class TorchContext
{
    private const string Library = "libtorch_cpu.so";

    [LibraryImport(Library, EntryPoint = "_ZN2at13globalContextEv")]
    internal static partial IntPtr Global();

    [LibraryImport(Library, EntryPoint = "_ZN2at7Context17setBenchmarkCuDNNEb")]
    internal static partial void SetBenchmarkCuDNN(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [LibraryImport(Library, EntryPoint = "_ZNK2at7Context14benchmarkCuDNNEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    internal static partial bool BenchmarkCuDNN(IntPtr context);

    [LibraryImport(Library, EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
    internal static partial void SetUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [LibraryImport(Library, EntryPoint = "_ZN2at7Context20setUserEnabledNNPACKEb")]
    internal static partial void SetUserEnabledNNPACK(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [LibraryImport(Library, EntryPoint = "_ZNK2at7Context17userEnabledMkldnnEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    internal static partial bool UserEnabledMkldnn(IntPtr context);
}

/// <summary>cuDNN autotuning (PyTorch's <c>torch.backends.cudnn.benchmark</c>).</summary>
public static class CudnnSettings
{
    /// <summary>Whether cuDNN times its convolution algorithms on first use of each shape and keeps the fastest.</summary>
    public static bool Benchmark
    {
        get => TorchContext.BenchmarkCuDNN(TorchContext.Global());
        set => TorchContext.SetBenchmarkCuDNN(TorchContext.Global(), value);
    }
}

/// <summary>
/// oneDNN (MKL-DNN) for CPU convolutions (PyTorch's <c>torch.backends.mkldnn.enabled</c>). Off,
/// libtorch runs its own convolutions: slower, and free of oneDNN's faults (docs/decisions.md).
/// </summary>
public static class OneDnnSettings
{
    public static bool Enabled
    {
        get => TorchContext.UserEnabledMkldnn(TorchContext.Global());
        set => TorchContext.SetUserEnabledMkldnn(TorchContext.Global(), value);
    }
}

/// <summary>
/// NNPACK, which libtorch tries for CPU convolutions that oneDNN does not take (float64 ones, and
/// all of them with oneDNN off). Where NNPACK cannot start (AVX-512 machines among them) libtorch
/// logs a warning at every such convolution; switched off, it tries it no more.
/// </summary>
public static class NnpackSettings
{
    public static void Disable() => TorchContext.SetUserEnabledNNPACK(TorchContext.Global(), false);
}
