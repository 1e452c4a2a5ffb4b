namespace NasActors.Controller.Coordinator;

/// <summary>
/// The coordinator's snapshot bookkeeping: what a crash would replay since the latest snapshot
/// (events and policy updates, against the <see cref="SnapshotCadence"/>), and the saves and
/// deletions under way, so that a finished run is stopped only once it leaves one snapshot, not
/// the latest beside the one it replaced.
/// </summary>
public sealed class SnapshotBook(int snapshotAfterUpdates)
{
    private readonly HashSet<(string Kind, long SequenceNr)> work = [];
    private int eventsSince;
    private int updatesSince;

    // Made once the run's settings are known; they do not change over a run.
    private SnapshotCadence? cadence;

    /// <summary>No save or deletion under way.</summary>
    public bool Idle => work.Count == 0;

    /// <summary>An event was stored or replayed (a policy update counts twice: as an event, and as an update a recovery recomputes).</summary>
    public void Event(bool policyUpdate = false)
    {
        eventsSince++;
        if (policyUpdate) updatesSince++;
    }

    /// <summary>Whether a snapshot at <paramref name="sequenceNr"/> is due; if so it counts as under way from now.</summary>
    public bool Due(int snapshotEvery, int children, long sequenceNr)
    {
        cadence ??= new SnapshotCadence(snapshotEvery, snapshotAfterUpdates);
        if (!cadence.Due(eventsSince, updatesSince, children)) return false;
        eventsSince = 0;
        updatesSince = 0;
        work.Add(("save", sequenceNr));
        return true;
    }

    /// <summary>A snapshot saved: the older ones are to be deleted (the sequence number below which, now under way).</summary>
    public long Saved(long sequenceNr)
    {
        work.Add(("delete", sequenceNr - 1));
        Done("save", sequenceNr);
        return sequenceNr - 1;
    }

    /// <summary>A save or deletion ended (or failed); true when it was ours (an earlier incarnation's answer is not).</summary>
    public bool Done(string kind, long sequenceNr) => work.Remove((kind, sequenceNr));
}
