using Akka.Actor;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using NasActors.Evaluator;
using NasActors.Persistence;

namespace NasActors.Node.Hosting;

/// <summary>Reads a run's stored events (also while a search writes them from another process).</summary>
public static class RunJournal
{
    public static async Task<IReadOnlyList<object>> ReadEventsAsync(string runDirectory)
    {
        RunFolder.Require(runDirectory);
        var system = ActorSystem.Create("nas-reader", NodeConfig.Reader(runDirectory));
        try
        {
            var journal = PersistenceQuery.Get(system).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
            return await journal.CurrentEventsByPersistenceId(SearchJournal.CoordinatorId, 0, long.MaxValue)
                .Select(e => e.Event)
                .RunWith(Sink.Seq<object>(), system.Materializer());
        }
        finally
        {
            await system.Terminate();
        }
    }

    public static SearchState Fold(IEnumerable<object> events)
    {
        var state = new SearchState();
        foreach (var e in events) state.Apply(e);
        return state;
    }

    public static Leaderboard Leaderboard(IEnumerable<object> events, int k)
    {
        var board = new Leaderboard(k);
        foreach (var e in events) board.Apply(e);
        return board;
    }
}
