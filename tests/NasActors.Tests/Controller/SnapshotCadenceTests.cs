using System.Text.Json;
using NasActors.Controller.Coordinator;
using NasActors.Persistence;
using NasActors.Search;
using NasActors.Search.Events;
using NasActors.Tests.Support;

namespace NasActors.Tests.Controller;

/// <summary>When the coordinator snapshots: every snapshot-every events, and after every 20 policy updates (cluster.hocon), more past 20,000 children.</summary>
public class SnapshotCadenceTests
{
    [Fact]
    public void The_update_cadence_grows_with_the_run_past_20_000_children_and_the_event_cadence_does_not()
    {
        var cadence = new SnapshotCadence(Events: 5000, Updates: 20);
        Assert.Equal(20, cadence.UpdatesAt(0));
        Assert.Equal(20, cadence.UpdatesAt(20_999));
        Assert.Equal(100, cadence.UpdatesAt(100_000));

        Assert.True(cadence.Due(0, 20, children: 3_000));
        Assert.False(cadence.Due(0, 19, children: 3_000));
        Assert.False(cadence.Due(0, 99, children: 100_000));
        Assert.True(cadence.Due(0, 100, children: 100_000));
        Assert.True(cadence.Due(5000, 0, children: 100_000));
        Assert.False(cadence.Due(4999, 0, children: 100_000));
        // A configured cadence above the growth stays what it was.
        Assert.Equal(500, new SnapshotCadence(5000, 500).UpdatesAt(100_000));
    }

    [Fact]
    public void Policy_updates_bring_a_snapshot_long_before_the_event_cadence_does()
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        // An update after every child: 30 updates in about 100 events, far from 5,000.
        var config = dir.File("config.json", JsonSerializer.Serialize(new SearchSettings
        {
            Strategy = "ppo", Seed = 1, Budget = 30, TopK = 0, Trainer = "synthetic", PpoMinibatch = 1, SnapshotEvery = 5000,
        }, NasActors.Persistence.SettingsJson.Options));
        var r = NasProcess.Run("search", "--run", run, "--config", config, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);

        var events = new FolderRunStore(run).ReadStoredEvents();
        Assert.True(events.Count(e => e.Event is PolicyUpdated) >= 20);
        var snapshot = new FolderRunStore(run).LatestSnapshotSequenceNr();
        Assert.True(snapshot is > 0, "no snapshot after 20 policy updates");
        // Recovery recomputes fewer than 20 updates.
        Assert.True(events.Count(e => e.SequenceNr > snapshot && e.Event is PolicyUpdated) < 20);
    }
}
