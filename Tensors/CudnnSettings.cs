using System.Runtime.InteropServices;

namespace NasActors.Tensors;

/// <summary>
/// cuDNN autotuning (PyTorch's <c>torch.backends.cudnn.benchmark</c>): TorchSharp 0.107 does not
/// expose it, so this calls libtorch's own setter on its global context (a C++ member function:
/// on x86-64 Linux the context is its first argument). Process-wide, like PyTorch's flag.
/// </summary>
public static partial class CudnnSettings
{
    private const string Library = "libtorch_cpu.so";

    [LibraryImport(Library, EntryPoint = "_ZN2at13globalContextEv")]
    private static partial IntPtr GlobalContext();

    [LibraryImport(Library, EntryPoint = "_ZN2at7Context17setBenchmarkCuDNNEb")]
    private static partial void SetBenchmark(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [LibraryImport(Library, EntryPoint = "_ZNK2at7Context14benchmarkCuDNNEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    private static partial bool GetBenchmark(IntPtr context);

    /// <summary>Whether cuDNN times its convolution algorithms on first use of each shape and keeps the fastest.</summary>
    public static bool Benchmark
    {
        get => GetBenchmark(GlobalContext());
        set => SetBenchmark(GlobalContext(), value);
    }
}
