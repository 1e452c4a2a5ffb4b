using Akka.Actor;
using NasActors.Search;
using NasActors.Search.Events;

namespace NasActors.Controller.Coordinator;

/// <summary>
/// The grace after a coordinator (re)starts on a stored search. No worker is known then: live
/// workers say what they still train, and only what nobody claims within the grace goes back to
/// the queue, so a restart or a move of the coordinator does not retrain every running child.
/// Results reported again in that time (their acknowledgements were lost in the restart) are
/// counted, to be said once rather than once each.
/// </summary>
public sealed class RestartGrace(TimeSpan grace)
{
    /// <summary>The grace is over for claims.</summary>
    public sealed record ClaimsClosed;

    /// <summary>The grace is over for repeated reports.</summary>
    public sealed record RepeatsOver;

    private int repeated;

    /// <summary>Starts the grace; the line to log when children were on workers (null: none were).</summary>
    public string? Start(ITimerScheduler timers, SearchState state, long sequenceNr)
    {
        timers.StartSingleTimer(nameof(RepeatsOver), new RepeatsOver(), grace);
        if (state.RunningCount == 0) return null;
        timers.StartSingleTimer(nameof(ClaimsClosed), new ClaimsClosed(), grace);
        return $"search resumed at event {sequenceNr}: {state.Trained} trained, {state.Stopped} stopped, {state.Failed} failed of {state.Budget}; " +
               $"{state.RunningCount} children were on workers: those no live worker claims within {grace.TotalSeconds:F0} s go back to the queue";
    }

    /// <summary>Counts a result ignored as already stored while the grace lasts.</summary>
    public void Ignored(ResultIgnored ignored, ITimerScheduler timers)
    {
        if (ignored.Reason == SearchState.AlreadyRecorded && timers.IsTimerActive(nameof(RepeatsOver))) repeated++;
    }

    /// <summary>What to say when the grace for repeats is over (null: nothing was repeated).</summary>
    public string? RepeatsLine() => repeated == 0 ? null :
        $"{repeated} result(s) reported again after the coordinator started had been stored before it (their acknowledgements were lost in the restart or hand-over): " +
        "recorded as result-ignored, none counted twice; nothing to do";
}
