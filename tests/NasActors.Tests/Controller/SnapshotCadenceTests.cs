using System.Text.Json;
using NasActors.Runs;
using NasActors.Search;
using NasActors.Search.Events;
using NasActors.Tests.Support;

namespace NasActors.Tests.Controller;

/// <summary>When the coordinator snapshots: every snapshot-every events, and after every 20 policy updates (cluster.hocon).</summary>
public class SnapshotCadenceTests
{
    [Fact]
    public void Policy_updates_bring_a_snapshot_long_before_the_event_cadence_does()
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        // An update after every child: 30 updates in about 100 events, far from 5,000.
        var config = dir.File("config.json", JsonSerializer.Serialize(new SearchSettings
        {
            Strategy = "ppo", Seed = 1, Budget = 30, TopK = 0, Trainer = "synthetic", PpoMinibatch = 1, SnapshotEvery = 5000,
        }, NasActors.Runs.SettingsJson.Options));
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
