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

/// <summary>The coordinator's snapshot bookkeeping, apart from the actor.</summary>
public class SnapshotBookTests
{
    [Fact]
    public void A_snapshot_is_due_by_events_or_updates_and_the_run_waits_for_its_save_and_the_deletion_it_causes()
    {
        var book = new SnapshotBook(snapshotAfterUpdates: 2);
        for (var i = 0; i < 3; i++) book.Event();
        Assert.False(book.Due(snapshotEvery: 4, children: 10, sequenceNr: 3));
        book.Event();
        Assert.True(book.Due(snapshotEvery: 4, children: 10, sequenceNr: 4));
        Assert.False(book.Idle);
        // Counted again from zero: two policy updates are due before four events.
        Assert.False(book.Due(4, 10, 4));
        book.Event(policyUpdate: true);
        Assert.False(book.Due(4, 10, 5));
        book.Event(policyUpdate: true);
        Assert.True(book.Due(4, 10, 6));

        // The save at 4 is answered: the older ones are deleted, and that is waited for too.
        Assert.Equal(3, book.Saved(4));
        Assert.False(book.Idle);
        Assert.True(book.Done("delete", 3));
        // An answer that is not ours (an earlier incarnation's) changes nothing.
        Assert.False(book.Done("save", 99));
        Assert.True(book.Done("save", 6));
        Assert.True(book.Idle);
    }
}

/// <summary>Who the coordinator knows: a restart is a known id under a new actor.</summary>
public sealed class WorkerRosterTests : Akka.TestKit.Xunit2.TestKit
{
    [Fact]
    public void A_known_id_under_a_new_actor_is_a_restart_and_a_terminated_actor_is_forgotten()
    {
        var roster = new WorkerRoster();
        var (first, again, other) = (CreateTestProbe().Ref, CreateTestProbe().Ref, CreateTestProbe().Ref);
        Assert.Null(roster.Register("a", first));
        Assert.Null(roster.Register("a", first));
        Assert.Null(roster.Register("b", other));
        Assert.Equal(first, roster.Register("a", again));
        Assert.Equal(new HashSet<string> { "a", "b" }, roster.Ids);
        Assert.Null(roster.Remove(first));
        Assert.Equal("a", roster.Remove(again));
        Assert.Equal(new HashSet<string> { "b" }, roster.Ids);
    }
}

/// <summary>The coordinator's writes, with the actor's persistence calls played by the test.</summary>
public class CoordinatorJournalTests
{
    [Fact]
    public void Events_are_folded_at_once_their_replies_wait_for_the_write_and_a_due_snapshot_follows_it()
    {
        using var model = new NasActors.Controller.Coordinator.SearchModel(NasActors.Controller.Strategies.StrategyCatalog.ForSearch);
        var writes = new List<(List<ISearchEvent> Events, Action<ISearchEvent> Stored)>();
        var snapshots = new List<object>();
        var (stored, sequenceNr) = (0, 0L);
        var journal = new CoordinatorJournal(model, new SnapshotBook(20), (events, handler) => writes.Add((events.ToList(), handler)), snapshots.Add, () => sequenceNr,
            () => stored++);
        void Store(int write)
        {
            foreach (var e in writes[write].Events)
            {
                sequenceNr++;
                writes[write].Stored(e);
            }
        }

        var replied = 0;
        journal.Write([new SearchStarted(new SearchSettings { Strategy = "random", Budget = 2, SnapshotEvery = 3 }, DateTimeOffset.UnixEpoch)], () => replied++);
        var job = model.State.NextJob("w", model.Sample)!;
        // The snapshot this write makes due is under way before its replies run (a reply may find the run finished, which waits for it).
        journal.Write(job.Events, () => replied += snapshots.Count == 1 ? 1 : 100);
        // Folded before they are stored: the next command sees them; the replies wait.
        Assert.Equal(1, model.State.RunningCount);
        Assert.True(journal.Writing);
        Assert.Equal((0, 0), (replied, stored));

        Store(0);
        Assert.Equal((1, 1), (replied, stored));
        Assert.Empty(snapshots);
        Store(1);
        // Three events stored, nothing in flight: the snapshot is due.
        Assert.Equal((2, 2), (replied, stored));
        Assert.False(journal.Writing);
        Assert.Single(snapshots);

        // Nothing to write: the reply runs at once.
        journal.Write([], () => replied++);
        Assert.Equal(3, replied);
    }
}

public class ResumeTests
{
    private static readonly SearchSettings Settings = new() { Strategy = "random", Budget = 1 };

    [Fact]
    public void A_restart_starts_grows_or_completes_the_search_as_its_state_and_the_request_say()
    {
        var now = DateTimeOffset.UnixEpoch;
        Assert.IsType<SearchStarted>(Assert.Single(SearchState.Empty.Resume(Settings, now)));
        Assert.Empty(SearchState.Empty.Resume(null, now));

        var done = SearchState.Fold([
            new SearchStarted(Settings, now), new ChildSampled(0, NasActors.SearchSpace.NasNetA.Genotype, new NasActors.SearchSpace.DecisionSpace().Encode(NasActors.SearchSpace.NasNetA.Genotype), -1, 0),
            new ChildAssigned(0, false, "w", 1), new ChildTrained(0, "w", 0.5, 1, 1, 1, 1)]);
        // All results in but not completed (the coordinator stopped before it said so).
        Assert.IsType<SearchCompleted>(Assert.Single(done.Resume(null, now)));
        Assert.IsType<SearchCompleted>(Assert.Single(done.Resume(Settings, now)));
        // A larger budget reopens it: nothing to complete.
        Assert.Equal(3, Assert.IsType<BudgetIncreased>(Assert.Single(done.Resume(Settings with { Budget = 3 }, now))).Budget);
    }
}
