using NasActors.Protocol;
using NasActors.Runs;
using NasActors.Search;
using NasActors.Search.Events;

namespace NasActors.Evaluator;

/// <summary>A trained child on the board: what its rank and the final-training request need.</summary>
public sealed record BoardEntry(long ChildId, double Accuracy, long Parameters);

/// <summary>A stored leaderboard of whichever shape it was written in, and how far into the journal it had read.</summary>
public interface ILeaderboardSnapshot : IWireMessage
{
    long Offset { get; }

    Leaderboard ToBoard();
}

/// <summary>The leaderboard as stored now: its entries and the search's lifecycle as the evaluator followed it.</summary>
[WireName("snapshot.leaderboard.v2")]
public sealed record LeaderboardSnapshot(long Offset, int Capacity, int TopK, bool SearchDone, bool FinalQueued, IReadOnlyList<BoardEntry> Entries)
    : ILeaderboardSnapshot
{
    public Leaderboard ToBoard() => Leaderboard.Restore(Capacity, TopK, SearchDone, FinalQueued, Entries);
}

/// <summary>
/// The leaderboard's first stored shape (read, never written): entries carried genotypes and
/// final accuracies that nothing read, and children sampled but not yet trained were stored as
/// entries of accuracy 0 (<see cref="Pending"/>); only the ranked entries matter.
/// </summary>
[WireName("snapshot.leaderboard")]
public sealed record LeaderboardSnapshotV1(
    long Offset, int Capacity, int TopK, bool SearchDone, bool FinalQueued, IReadOnlyList<LeaderboardEntryV1> Entries, IReadOnlyList<LeaderboardEntryV1> Pending)
    : ILeaderboardSnapshot
{
    public Leaderboard ToBoard() =>
        Leaderboard.Restore(Capacity, TopK, SearchDone, FinalQueued, Entries.Select(e => new BoardEntry(e.ChildId, e.Accuracy, e.Parameters)));
}

/// <summary>An entry of <see cref="LeaderboardSnapshotV1"/>, as it was stored.</summary>
public sealed record LeaderboardEntryV1(
    long ChildId, double Accuracy, long Parameters, SearchSpace.Genotype Genotype, double? FinalAccuracy = null, double? FinalTestAccuracy = null);

/// <summary>
/// The best <see cref="Capacity"/> trained children, folded from the search's events, in
/// <see cref="Ranking"/>'s order, and what the evaluator needs of the search's lifecycle to ask
/// for the final training of the top K once (again after the budget grows). Pure: the evaluator
/// feeds it the live stream; its top K must equal the journal's (<see cref="SearchViews.Top"/>).
/// </summary>
public sealed class Leaderboard(int capacity)
{
    private static readonly IComparer<BoardEntry> Order = Ranking.By<BoardEntry>(e => e.Accuracy, e => e.ChildId);

    private readonly SortedSet<BoardEntry> entries = new(Order);

    public int Capacity { get; } = capacity;
    public IReadOnlyList<BoardEntry> Entries => entries.ToList();
    public bool SearchDone { get; private set; }
    public bool FinalQueued { get; private set; }
    public int TopK { get; private set; }

    public void Apply(object evt)
    {
        switch (evt)
        {
            case SearchStarted e:
                TopK = e.Settings.TopK;
                break;
            case BudgetIncreased:
                // The search goes on; once it completes again its new top K get their final training.
                SearchDone = false;
                FinalQueued = false;
                break;
            case ChildTrained e:
                entries.Add(new BoardEntry(e.ChildId, e.Accuracy, e.Parameters));
                if (entries.Count > Capacity) entries.Remove(entries.Max!);
                break;
            case SearchCompleted:
                SearchDone = true;
                break;
            case FinalTrainingQueued:
                FinalQueued = true;
                break;
        }
    }

    public LeaderboardSnapshot ToSnapshot(long offset) => new(offset, Capacity, TopK, SearchDone, FinalQueued, entries.ToList());

    internal static Leaderboard Restore(int capacity, int topK, bool searchDone, bool finalQueued, IEnumerable<BoardEntry> entries)
    {
        var board = new Leaderboard(capacity) { TopK = topK, SearchDone = searchDone, FinalQueued = finalQueued };
        foreach (var e in entries) board.entries.Add(e);
        return board;
    }
}
