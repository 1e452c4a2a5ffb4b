using NasActors.Controller.Coordinator;
using NasActors.Controller.Strategies;
using NasActors.Protocol;
using NasActors.Protocol.Messages;
using NasActors.Persistence.Snapshots;
using NasActors.Search;
using NasActors.Search.Events;
using NasActors.Tests.Support;

namespace NasActors.Tests.Controller;

/// <summary>The coordinator's model: what it folds live, a replay of the journal folds to the same state and the same strategy.</summary>
[Collection(TorchCollection.Name)]
public class SearchModelTests
{
    public static TheoryData<string, int> Histories => new()
    {
        { "ppo", 1 }, { "ppo", 2 }, { "random", 3 }, { "evolution", 4 },
    };

    /// <summary>
    /// A random history as the coordinator makes it: three workers take jobs, report results and
    /// failures in any order, and deferred policy updates are installed whenever one is pending and
    /// the dice say so. Returns the live model and every event it folded, in order.
    /// </summary>
    private static (SearchModel Model, List<ISearchEvent> Events) Live(string strategy, int seed)
    {
        var rng = new Random(seed);
        var model = new SearchModel(StrategyCatalog.ForSearch);
        var events = new List<ISearchEvent>();
        void Fold(IEnumerable<ISearchEvent> decided)
        {
            foreach (var e in decided)
            {
                model.Evolve(e);
                events.Add(e);
            }
        }
        Fold([new SearchStarted(new SearchSettings { Strategy = strategy, Budget = 45, TopK = 0, Seed = seed, PpoMinibatch = 5 }, DateTimeOffset.UnixEpoch)]);
        string[] workers = ["w0", "w1", "w2"];
        while (!model.State.AllResultsIn)
        {
            var worker = workers[rng.Next(workers.Length)];
            if (model.State.RunningOn(worker).FirstOrDefault() is { } job && rng.Next(3) > 0)
            {
                WorkerReport report = rng.Next(6) == 0
                    ? new ChildFailure(job.ChildId, false, worker, "NaN loss")
                    : new ChildResult(job.ChildId, false, worker, rng.NextDouble(), null, 0.5, 10, 20, 1);
                Fold(model.State.Report(report));
            }
            else if (model.State.RunningOn(worker).Any())
                Fold(model.State.Requeue(worker, "worker restarted"));
            else if (model.State.NextJob(worker, model.Sample) is { } next)
                Fold(next.Events);
            if (model.Strategy!.HasPendingUpdate && rng.Next(2) == 0)
            {
                model.Strategy.ApplyUpdate(model.Strategy.PrepareUpdate()());
                Fold([new PolicyUpdated(model.Strategy.PolicyVersion, model.State.Trained + model.State.Failed)]);
            }
        }
        return (model, events);
    }

    private static string Stored(SearchModel model) =>
        Convert.ToBase64String(NasActors.Persistence.JournalFormat.Default.ToBinary(model.Snapshot()));

    [Theory]
    [MemberData(nameof(Histories))]
    public void Replaying_the_journal_ends_where_the_live_fold_did(string strategy, int seed)
    {
        var (live, events) = Live(strategy, seed);
        using (live)
        {
            Assert.Contains(events, e => e is ChildFailed);
            if (strategy == "ppo") Assert.Contains(events, e => e is PolicyUpdated);

            using var replayed = new SearchModel(StrategyCatalog.ForSearch);
            foreach (var e in events) Assert.Null(replayed.Replay(e));
            Assert.Equal(Stored(live), Stored(replayed));

            // From a snapshot taken midway, with the rest replayed after it: the same end.
            var half = events.Count / 2;
            using var upToHalf = new SearchModel(StrategyCatalog.ForSearch);
            foreach (var e in events.Take(half)) upToHalf.Replay(e);
            using var restored = new SearchModel(StrategyCatalog.ForSearch);
            restored.Restore((ISearchSnapshot)NasActors.Persistence.JournalFormat.Default.FromBinary(NasActors.Persistence.JournalFormat.Default.ToBinary(upToHalf.Snapshot()), "snapshot.search-state.v3"));
            foreach (var e in events.Skip(half)) Assert.Null(restored.Replay(e));
            Assert.Equal(Stored(live), Stored(restored));
        }
    }

    [Fact]
    public void A_journal_the_strategy_would_not_have_proposed_is_said_and_the_journal_wins()
    {
        var (live, events) = Live("random", 7);
        using (live)
        {
            var sampled = events.OfType<ChildSampled>().First();
            var other = sampled with { Decisions = [.. sampled.Decisions.Select(d => d == 0 ? 1 : 0)] };
            using var replayed = new SearchModel(StrategyCatalog.ForSearch);
            var said = events.Select(e => replayed.Replay(ReferenceEquals(e, sampled) ? other : e)).Where(s => s is not null).ToList();
            Assert.Contains($"child {sampled.ChildId}", Assert.Single(said));
            Assert.Equal(other.Decisions, replayed.State.Children[sampled.ChildId].Decisions);
        }
    }
}
