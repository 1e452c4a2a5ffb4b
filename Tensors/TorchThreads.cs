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
    // Holders share one limit: the count the process had is taken by the first and given back by the last.
    private static readonly object Gate = new();
    private static int holders;
    private static int saved;

    private readonly bool held;

    private TorchThreads(bool held) => this.held = held;

    /// <summary>One intra-op thread until the last holder disposes.</summary>
    public static TorchThreads One()
    {
        lock (Gate)
        {
            if (holders++ == 0)
            {
                saved = get_num_threads();
                if (saved != 1) set_num_threads(1);
            }
        }
        return new(true);
    }

    public void Dispose()
    {
        if (!held) return;
        lock (Gate)
        {
            if (--holders == 0 && saved != 1) set_num_threads(saved);
        }
    }
}
