using Akka.Actor;

namespace NasActors.Hosting;

/// <summary>
/// Puts this process's memory in the node's log at the cadence <c>nas.memory-log-every</c> (0: never),
/// so that an operator can see over a search of days whether a node grows. <see cref="RunLog"/>
/// writes the lines whatever Akka's log level.
/// </summary>
public sealed class MemoryLog : ReceiveActor, IWithTimers
{
    private readonly TimeSpan every;

    /// <summary>
    /// Resident set and its anonymous part (what the process allocated, not mapped files; null where
    /// the system does not say); managed heap after the latest collection, what of it is in use (the
    /// rest is free space between objects, which the heap keeps), and its part in the old generations
    /// (gen2 and large objects).
    /// </summary>
    public sealed record Sample(long ResidentBytes, long? AnonymousBytes, long ManagedHeapBytes, long InUseBytes, long OldGenerationsBytes, int Gen2Collections)
    {
        public static Sample Now()
        {
            var gc = GC.GetGCMemoryInfo();
            // Generation 2 and the large-object heap (the runtime always gives all five generations).
            var old = gc.GenerationInfo[2].SizeAfterBytes + gc.GenerationInfo[3].SizeAfterBytes;
            return new Sample(Environment.WorkingSet, ProcessMemory.Status("RssAnon"), gc.HeapSizeBytes, gc.HeapSizeBytes - gc.FragmentedBytes, old, GC.CollectionCount(2));
        }

        public string Line =>
            $"memory: resident {Mb(ResidentBytes)} MB{(AnonymousBytes is { } a ? $" (anonymous {Mb(a)} MB)" : "")}, managed heap {Mb(ManagedHeapBytes)} MB (in use {Mb(InUseBytes)} MB, old generations {Mb(OldGenerationsBytes)} MB, {Gen2Collections} full collection{(Gen2Collections == 1 ? "" : "s")})";

        private static string Mb(long bytes) => (bytes / 1048576.0).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
    }

    private sealed record Take;

    public ITimerScheduler Timers { get; set; } = null!;

    public MemoryLog(TimeSpan every)
    {
        this.every = every;
        Receive<Take>(_ => Context.System.EventStream.Publish(Sample.Now()));
    }

    protected override void PreStart()
    {
        if (every > TimeSpan.Zero) Timers.StartPeriodicTimer("take", new Take(), every);
    }

    /// <summary>The cadence from the node's configuration; one that is not a duration, or below zero, is refused naming the setting.</summary>
    public static TimeSpan Cadence(Akka.Configuration.Config config)
    {
        const string problem = "nas.memory-log-every must be 0 (never) or a duration such as 1h";
        TimeSpan every;
        try
        {
            every = config.GetTimeSpan("nas.memory-log-every", TimeSpan.FromHours(1));
        }
        catch (FormatException e)
        {
            throw new FormatException($"{problem}: {e.Message}", e);
        }
        return every >= TimeSpan.Zero ? every : throw new FormatException($"{problem}, not {every}");
    }

    public static Props Props(TimeSpan every) => Akka.Actor.Props.Create(() => new MemoryLog(every));
}
