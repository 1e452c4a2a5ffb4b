namespace NasActors.Controller.Coordinator;

/// <summary>
/// When the coordinator snapshots: after <paramref name="Events"/> events, or after
/// <paramref name="Updates"/> policy updates, since the latest snapshot. Recovery recomputes each
/// update after the snapshot (about 20 ms each, at any size of run), while a snapshot writes the
/// whole state, which grows with the run (3.7 MB at 20,000 children: docs/capacity.md). So past
/// <see cref="ChildrenPerUpdate"/> children per update of the base cadence, the update cadence
/// grows with the children: at 100,000 children a snapshot follows 100 updates (about 2 s of
/// recomputation in a recovery) instead of 20, and the run writes a fifth as many snapshots.
/// </summary>
public sealed record SnapshotCadence(int Events, int Updates)
{
    /// <summary>Children per policy update a snapshot may leave to recovery.</summary>
    public const int ChildrenPerUpdate = 1000;

    /// <summary>The policy updates after which a snapshot is due in a run of <paramref name="children"/>.</summary>
    public int UpdatesAt(int children) => Math.Max(Updates, children / ChildrenPerUpdate);

    public bool Due(int eventsSince, int updatesSince, int children) => eventsSince >= Events || updatesSince >= UpdatesAt(children);
}
