namespace NasActors.Tensors;

/// <summary>
/// Work inside libtorch on threads of this process (training, kernel checks, controller updates).
/// A process must not exit under it: libtorch's teardown at exit crashes a thread still inside it
/// (exit code 139 after SIGTERM). Commands wait for it (<see cref="WaitIdle"/>) once their actors have cancelled it.
/// </summary>
public static class NativeWork
{
    private static int inFlight;

    public static Scope Enter()
    {
        Interlocked.Increment(ref inFlight);
        return new Scope();
    }

    public readonly struct Scope : IDisposable
    {
        public void Dispose() => Interlocked.Decrement(ref inFlight);
    }

    /// <summary>Waits until no thread is inside libtorch, at most <paramref name="timeout"/>; false if some still is.</summary>
    public static bool WaitIdle(TimeSpan timeout)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (Volatile.Read(ref inFlight) > 0)
        {
            if (clock.Elapsed >= timeout) return false;
            Thread.Sleep(20);
        }
        return true;
    }
}
