using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Microsoft.Data.Sqlite;
using NasActors.Evaluator;
using NasActors.Hosting;
using NasActors.Protocol.Messages;
using NasActors.Persistence;
using NasActors.Search;
using NasActors.Search.Events;
using NasActors.SearchSpace;
using NasActors.Tests.Support;

namespace NasActors.Tests.Evaluator;

public class LeaderboardTests
{
    private static readonly int[] Decisions = new DecisionSpace().Encode(NasNetA.Genotype);

    private static IEnumerable<ISearchEvent> Trained(long id, double accuracy) =>
        [new ChildSampled(id, NasNetA.Genotype, Decisions, -1, 0), new ChildAssigned(id, false, "w", 1), new ChildTrained(id, "w", accuracy, 0.5, 10 + id, 20, 1)];

    private static Leaderboard Fold(int capacity, IEnumerable<ISearchEvent> events)
    {
        var board = new Leaderboard(capacity);
        foreach (var e in events) board.Apply(e);
        return board;
    }

    [Fact]
    public void Ties_go_to_the_earlier_child_and_the_worst_is_evicted_beyond_capacity()
    {
        var board = Fold(3, [.. Trained(0, 0.5), .. Trained(1, 0.7), .. Trained(2, 0.5), .. Trained(3, 0.9), .. Trained(4, 0.5)]);
        Assert.Equal([3L, 1, 0], board.Entries.Select(e => e.ChildId));
        Assert.Equal([0.9, 0.7, 0.5], board.Entries.Select(e => e.Accuracy));
    }

    [Fact]
    public void The_leaderboard_nas_top_and_the_report_rank_alike()
    {
        var rng = new Random(11);
        // Few distinct accuracies: many ties, in an order that is not the child order.
        var events = new List<ISearchEvent> { new SearchStarted(new SearchSettings { Budget = 40 }, DateTimeOffset.UnixEpoch) };
        foreach (var id in Enumerable.Range(0, 40).OrderBy(_ => rng.Next()))
            events.AddRange(Trained(id, rng.Next(5) / 10.0));
        var board = Fold(10, events).Entries.Select(e => e.ChildId).ToList();
        var state = SearchState.Fold(events);
        var top = SearchViews.Top(state, 10).Select(c => c.ChildId).ToList();
        var report = NasActors.Reports.RunReportBuilder.Build("r", events.Select((e, i) => new StoredEvent(i + 1, DateTimeOffset.UnixEpoch, e)).ToList(),
            DateTimeOffset.UnixEpoch, top: 10).Top.Select(t => t.ChildId).ToList();
        Assert.Equal(board, top);
        Assert.Equal(board, report);
        Assert.Equal(Ranking.Trained(state).Take(10).Select(c => c.Id), board);
        var accuracies = Ranking.Trained(state).Select(c => (c.Search.Outcome!.Accuracy, c.Id)).ToList();
        Assert.Equal(accuracies.OrderByDescending(a => a.Accuracy).ThenBy(a => a.Id), accuracies);
    }

    [Fact]
    public void Failed_children_never_enter_and_the_lifecycle_follows_the_search()
    {
        var board = Fold(2, [
            new SearchStarted(new SearchSettings { TopK = 2 }, DateTimeOffset.UnixEpoch),
            .. Trained(0, 0.6), new ChildSampled(1, NasNetA.Genotype, Decisions, -1, 0), new ChildFailed(1, "w", "NaN"), .. Trained(2, 0.8),
            new SearchCompleted(2, 1, 0.8, DateTimeOffset.UnixEpoch), new FinalTrainingQueued([2, 0]),
            new FinalTrainingCompleted(2, "w", 0.85, 0.84, 0.3, 12, 20, 5)]);
        Assert.Equal([2L, 0], board.Entries.Select(e => e.ChildId));
    }

    [Fact]
    public void The_final_training_request_is_due_once_the_search_completes_until_it_is_queued_and_again_after_a_grown_budget()
    {
        var request = FinalTrainingRequest.None;
        var due = new List<bool>();
        foreach (var e in new ISearchEvent[]
                 {
                     new SearchStarted(new SearchSettings { TopK = 2 }, DateTimeOffset.UnixEpoch), new ChildTrained(0, "w", 0.6, 0.4, 1, 1, 1),
                     new SearchCompleted(1, 0, 0.6, DateTimeOffset.UnixEpoch), new FinalTrainingQueued([0]), new BudgetIncreased(10),
                     new ChildTrained(1, "w", 0.7, 0.4, 1, 1, 1), new SearchCompleted(2, 0, 0.7, DateTimeOffset.UnixEpoch),
                 })
        {
            request = request.Evolve(e);
            due.Add(request.Due);
        }
        Assert.Equal([false, false, true, false, false, false, true], due);
        Assert.False(new FinalTrainingRequest(0, true, false).Due);
    }

    [Fact]
    public void A_snapshot_restores_the_same_board()
    {
        var board = Fold(3, [new SearchStarted(new SearchSettings { TopK = 1 }, DateTimeOffset.UnixEpoch), .. Trained(0, 0.5), .. Trained(1, 0.7),
            new ChildSampled(2, NasNetA.Genotype, Decisions, -1, 0)]);
        var request = new FinalTrainingRequest(1, true, false);
        var snapshot = LeaderboardSnapshot.Of(9, board, request);
        var restored = snapshot.ToBoard();
        restored.Apply(new ChildTrained(2, "w", 0.6, 0.4, 1, 1, 1));
        board.Apply(new ChildTrained(2, "w", 0.6, 0.4, 1, 1, 1));
        Assert.Equal(board.Entries, restored.Entries);
        Assert.Equal(request, snapshot.ToRequest());
    }

    [Fact]
    public void In_a_search_of_several_objectives_the_finalists_are_spread_along_the_front_as_the_journal_says()
    {
        var settings = new SearchSettings { Budget = 6, TopK = 3, Objectives = ["accuracy", "mult_adds"] };
        // Accuracy against mult-adds: 0..3 lie on the front (0 the cheapest, 3 the best), 4 and 5 behind it.
        (double Acc, long Madds)[] children = [(0.5, 100), (0.6, 200), (0.65, 300), (0.9, 900), (0.55, 250), (0.4, 950)];
        var events = new List<ISearchEvent> { new SearchStarted(settings, DateTimeOffset.UnixEpoch) };
        for (var id = 0; id < children.Length; id++)
            events.AddRange([new ChildSampled(id, NasNetA.Genotype, Decisions, -1, 0), new ChildAssigned(id, false, "w", 1),
                new ChildTrained(id, "w", children[id].Acc, 0.5, 10, children[id].Madds, 1)]);
        var board = Fold(2, events);
        var state = SearchState.Fold(events);
        // The ends of the front first, then its most isolated point (2: its neighbours lie farther apart than 1's).
        Assert.Equal([0L, 3, 2], board.Finalists(3));
        Assert.Equal(board.Finalists(3), SearchViews.Finalists(state, 3));
        Assert.Equal([0L, 3, 2, 1, 4, 5], board.Finalists(6));
        // Stored and read back, with its objectives.
        var restored = LeaderboardSnapshot.Of(1, board, FinalTrainingRequest.None).ToBoard();
        Assert.Equal(board.Finalists(6), restored.Finalists(6));
    }

    [Fact]
    public void A_board_stored_in_the_first_shape_reads_its_ranked_entries_and_drops_the_rest()
    {
        var v1 = new LeaderboardSnapshotV1(7, 3, 1, true, false,
            [new LeaderboardEntryV1(4, 0.9, 10, NasNetA.Genotype, 0.91), new LeaderboardEntryV1(2, 0.5, 12, NasNetA.Genotype)],
            [new LeaderboardEntryV1(5, 0, 0, NasNetA.Genotype)]);
        var read = (ILeaderboardSnapshot)NasActors.Hosting.NasSerializer.Format.FromBinary(NasActors.Hosting.NasSerializer.Format.ToBinary(v1), "snapshot.leaderboard");
        var board = read.ToBoard();
        Assert.Equal(7, read.Offset);
        Assert.Equal([new BoardEntry(4, 0.9, 10), new BoardEntry(2, 0.5, 12)], board.Entries);
        Assert.Equal(new FinalTrainingRequest(1, true, false), read.ToRequest());
        Assert.Equal(3, board.Capacity);
    }
}

/// <summary>The evaluator actor on a real SQLite journal: follows the live stream, survives restarts, resumes from its offset.</summary>
public sealed class LeaderboardKeeperTests : IDisposable
{
    private readonly TempDir dir = new();
    private readonly ActorSystem system;

    public LeaderboardKeeperTests() =>
        system = ActorSystem.Create("keeper-test", ConfigurationFactory.ParseString("akka.actor.provider = local\nakka.loglevel = ERROR")
            .WithFallback(NodeConfig.ClusterHocon()).WithFallback(PersistenceConfig.Sqlite(dir.Path)));

    public void Dispose()
    {
        system.Terminate().Wait(TimeSpan.FromSeconds(10));
        SqliteConnection.ClearAllPools();
        dir.Dispose();
    }

    /// <summary>Writes events under the coordinator's persistence id, and deletes old ones on request.</summary>
    private sealed class JournalWriter : ReceivePersistentActor
    {
        public JournalWriter()
        {
            Command<ISearchEvent[]>(events => PersistAll(events, _ => { }));
            Command<long>(upTo => DeleteMessages(upTo));
            Command<string>(_ => DeferAsync("", _ => Sender.Tell(LastSequenceNr)));
            Command<DeleteMessagesSuccess>(_ => { });
        }

        public override string PersistenceId => PersistenceIds.Folder.CoordinatorId;
    }

    /// <summary>Forwards what the evaluator asks of the coordinator to a test's queue.</summary>
    private sealed class Recorder : ReceiveActor
    {
        public Recorder(System.Collections.Concurrent.BlockingCollection<QueueFinalTraining> requests) =>
            Receive<QueueFinalTraining>(requests.Add);
    }

    private long EvaluatorOffset()
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(dir.Path, "snapshots.db")};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        // The offset is inside the evaluator's latest snapshot (it persists no events of its own).
        command.CommandText = "SELECT manifest, snapshot FROM snapshot WHERE persistence_id = 'evaluator' ORDER BY created DESC LIMIT 1";
        try
        {
            using var reader = command.ExecuteReader();
            return reader.Read() ? ((LeaderboardSnapshot)NasActors.Hosting.NasSerializer.Format.FromBinary((byte[])reader[1], reader.GetString(0))).Offset : 0;
        }
        catch (SqliteException)
        {
            return 0; // no table yet
        }
    }

    [Fact]
    public async Task After_restarts_it_resumes_from_its_stored_offset_and_asks_for_the_top_K_recomputed_from_the_journal()
    {
        var rng = new Random(4);
        var writer = system.ActorOf(Props.Create(() => new JournalWriter()));
        var requests = new System.Collections.Concurrent.BlockingCollection<QueueFinalTraining>();
        var coordinator = system.ActorOf(Props.Create(() => new Recorder(requests)));
        var all = new List<ISearchEvent> { new SearchStarted(new SearchSettings { TopK = 3, Budget = 240 }, DateTimeOffset.UnixEpoch) };
        var decisions = new DecisionSpace().Encode(NasNetA.Genotype);
        for (var id = 0; id < 240; id++)
        {
            all.Add(new ChildSampled(id, NasNetA.Genotype, decisions, -1, 0));
            // Accuracies on a coarse grid: plenty of ties.
            all.Add(rng.Next(5) == 0 ? new ChildFailed(id, "w", "NaN") : new ChildTrained(id, "w", rng.Next(20) / 20.0, 0.1, 1, 1, 1));
        }
        all.Add(new SearchCompleted(0, 0, null, DateTimeOffset.UnixEpoch));

        // First 300 events, then a stop of the evaluator once it has stored its board (every 200 events).
        writer.Tell(all.Take(150).ToArray());
        await writer.Ask<long>("sync", TimeSpan.FromSeconds(10));
        var keeper = system.ActorOf(LeaderboardKeeper.Props(coordinator, 3));
        writer.Tell(all.Skip(150).Take(150).ToArray());
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (EvaluatorOffset() < 200 && DateTime.UtcNow < deadline) await Task.Delay(100);
        var offset = EvaluatorOffset();
        Assert.True(offset >= 200, $"the evaluator stored no offset (at {offset})");
        system.Stop(keeper);

        // The journal loses everything the evaluator already read: only its stored board can know it.
        writer.Tell(offset);
        await writer.Ask<long>("sync", TimeSpan.FromSeconds(10));
        system.ActorOf(LeaderboardKeeper.Props(coordinator, 3));
        writer.Tell(all.Skip(300).ToArray());

        Assert.True(requests.TryTake(out var request, TimeSpan.FromSeconds(60)), "no final-training request");
        var expected = new Leaderboard(3);
        foreach (var e in all) expected.Apply(e);
        Assert.Equal(expected.Entries.Select(e => e.ChildId), request.ChildIds);
        Assert.Contains(request.ChildIds, id => 3 + 2 * id <= offset); // a child only the stored board knew
    }

    [Fact]
    public async Task A_request_due_when_the_evaluator_stopped_is_asked_for_again_when_it_starts()
    {
        var writer = system.ActorOf(Props.Create(() => new JournalWriter()));
        var decisions = new DecisionSpace().Encode(NasNetA.Genotype);
        ISearchEvent[] events =
        [
            new SearchStarted(new SearchSettings { TopK = 1, Budget = 2 }, DateTimeOffset.UnixEpoch),
            new ChildSampled(0, NasNetA.Genotype, decisions, -1, 0), new ChildTrained(0, "w", 0.4, 0.1, 1, 1, 1),
            new ChildSampled(1, NasNetA.Genotype, decisions, -1, 0), new ChildTrained(1, "w", 0.7, 0.1, 1, 1, 1),
            new SearchCompleted(2, 0, 0.7, DateTimeOffset.UnixEpoch),
        ];
        writer.Tell(events);
        await writer.Ask<long>("sync", TimeSpan.FromSeconds(10));
        var first = new System.Collections.Concurrent.BlockingCollection<QueueFinalTraining>();
        var keeper = system.ActorOf(LeaderboardKeeper.Props(system.ActorOf(Props.Create(() => new Recorder(first))), 3));
        Assert.True(first.TryTake(out _, TimeSpan.FromSeconds(30)), "no final-training request once the search completed");
        // Its board is stored at the completion: a new evaluator's stream starts after it.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (EvaluatorOffset() < events.Length && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.Equal(events.Length, EvaluatorOffset());
        system.Stop(keeper);

        // Nothing queued it (no coordinator here): the evaluator that starts next asks again, from its stored board.
        var second = new System.Collections.Concurrent.BlockingCollection<QueueFinalTraining>();
        system.ActorOf(LeaderboardKeeper.Props(system.ActorOf(Props.Create(() => new Recorder(second))), 3));
        Assert.True(second.TryTake(out var again, TimeSpan.FromSeconds(30)), "the restarted evaluator never asked for the final training");
        Assert.Equal([1L], again.ChildIds);
    }
}
