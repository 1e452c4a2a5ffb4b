using NasActors.Search.Events;

namespace NasActors.Controller.Coordinator;

/// <summary>
/// The coordinator's writes. Decided events are folded into the <see cref="SearchModel"/> at once,
/// so the next command already sees them (no job is handed out twice), and stored in one write
/// each; the actor keeps working while writes are in flight, so the journal commits many workers'
/// writes together. Once a write is stored a snapshot is taken when due (only with nothing in
/// flight does the state hold exactly what the journal holds), then its replies run, and the actor
/// hears <paramref name="stored"/>. The snapshot comes first: a reply may find the run finished,
/// which waits for every snapshot under way. The actor's own persistence calls are given, so this is tested without one.
/// </summary>
/// <param name="persistAll">the actor's PersistAllAsync</param>
/// <param name="saveSnapshot">the actor's SaveSnapshot</param>
/// <param name="lastSequenceNr">the actor's LastSequenceNr</param>
public sealed class CoordinatorJournal(SearchModel model, SnapshotBook snapshots, Action<IEnumerable<ISearchEvent>, Action<ISearchEvent>> persistAll,
    Action<object> saveSnapshot, Func<long> lastSequenceNr, Action stored)
{
    private int inFlight;

    /// <summary>A write is in flight.</summary>
    public bool Writing => inFlight > 0;

    /// <summary>Folds and stores <paramref name="events"/>; <paramref name="after"/> (the replies) runs once they are stored.</summary>
    public void Write(IReadOnlyList<ISearchEvent> events, Action? after = null) => Write([], events, after);

    /// <summary>
    /// Stores <paramref name="applied"/> (already folded: an outcome the strategy learnt from before
    /// deciding the next job) with <paramref name="events"/> (folded now) in one write. Should a
    /// write fail, the actor stops, restarts, and recovers only what was stored.
    /// </summary>
    public void Write(IReadOnlyList<ISearchEvent> applied, IReadOnlyList<ISearchEvent> events, Action? after)
    {
        if (applied.Count + events.Count == 0)
        {
            after?.Invoke();
            return;
        }
        foreach (var e in events) model.Evolve(e);
        inFlight++;
        var left = applied.Count + events.Count;
        persistAll([.. applied, .. events], e =>
        {
            snapshots.Event(policyUpdate: e is PolicyUpdated);
            if (--left > 0) return;
            inFlight--;
            if (inFlight == 0 && model.Strategy is not null && snapshots.Due(model.State.Settings!.SnapshotEvery, model.State.Sampled, lastSequenceNr()))
                saveSnapshot(model.Snapshot());
            after?.Invoke();
            stored();
        });
    }
}
