using static TorchSharp.torch;

namespace NasActors.Tensors;

/// <summary>
/// Runs small tensor work on one intra-op thread (the controller's, a child's latency on a CPU):
/// at this size OpenMP's thread handoff costs more than it saves, and far more when child
/// training keeps the other cores busy (measured: bench/RESULTS.md). The previous setting comes
/// back on dispose; the setting is the process's, so work on other threads meanwhile has it too.
/// </summary>
public readonly struct TorchThreads : IDisposable
{
    private readonly int previous;

    private TorchThreads(int threads)
    {
        previous = get_num_threads();
        if (previous != threads) set_num_threads(threads);
    }

    public static TorchThreads Limit(int threads) => new(threads);

    public void Dispose()
    {
        if (get_num_threads() != previous) set_num_threads(previous);
    }
}
