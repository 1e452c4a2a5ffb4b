using NasActors.Protocol;
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

    FinalTrainingRequest ToRequest();
}

/// <summary>The evaluator as stored now: its board's entries and its final-training request, with the journal offset both were folded to.</summary>
[WireName("snapshot.leaderboard.v2")]
public sealed record LeaderboardSnapshot(long Offset, int Capacity, int TopK, bool SearchDone, bool FinalQueued, IReadOnlyList<BoardEntry> Entries)
    : ILeaderboardSnapshot
{
    public static LeaderboardSnapshot Of(long offset, Leaderboard board, FinalTrainingRequest request) =>
        new(offset, board.Capacity, request.TopK, request.SearchDone, request.Queued, board.Entries);

    public Leaderboard ToBoard() => Leaderboard.Restore(Capacity, Entries);

    public FinalTrainingRequest ToRequest() => new(TopK, SearchDone, FinalQueued);
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
    public Leaderboard ToBoard() => Leaderboard.Restore(Capacity, Entries.Select(e => new BoardEntry(e.ChildId, e.Accuracy, e.Parameters)));

    public FinalTrainingRequest ToRequest() => new(TopK, SearchDone, FinalQueued);
}

/// <summary>An entry of <see cref="LeaderboardSnapshotV1"/>, as it was stored.</summary>
public sealed record LeaderboardEntryV1(
    long ChildId, double Accuracy, long Parameters, SearchSpace.Genotype Genotype, double? FinalAccuracy = null, double? FinalTestAccuracy = null);

/// <summary>
/// The best <see cref="Capacity"/> trained children, folded from the search's events, in
/// <see cref="Ranking"/>'s order. Pure: the evaluator feeds it the live stream; its top K must
/// equal the journal's (<see cref="SearchViews.Top"/>).
/// </summary>
public sealed class Leaderboard(int capacity)
{
    private static readonly IComparer<BoardEntry> Order = Ranking.By<BoardEntry>(e => e.Accuracy, e => e.ChildId);

    private readonly SortedSet<BoardEntry> entries = new(Order);

    public int Capacity { get; } = capacity;

    public IReadOnlyList<BoardEntry> Entries => entries.ToList();

    public void Apply(ISearchEvent evt)
    {
        if (evt is not ChildTrained e) return;
        entries.Add(new BoardEntry(e.ChildId, e.Accuracy, e.Parameters));
        if (entries.Count > Capacity) entries.Remove(entries.Max!);
    }

    internal static Leaderboard Restore(int capacity, IEnumerable<BoardEntry> entries)
    {
        var board = new Leaderboard(capacity);
        foreach (var e in entries) board.entries.Add(e);
        return board;
    }
}

/// <summary>
/// The evaluator's own errand, folded from the same events as its board: once the search
/// completes, ask for the final training of its top K, until the journal shows it queued; again
/// after a grown budget completes.
/// </summary>
public sealed record FinalTrainingRequest(int TopK, bool SearchDone, bool Queued)
{
    public static readonly FinalTrainingRequest None = new(0, false, false);

    /// <summary>Whether to ask now.</summary>
    public bool Due => SearchDone && !Queued && TopK > 0;

    public FinalTrainingRequest Evolve(ISearchEvent evt) => evt switch
    {
        SearchStarted e => this with { TopK = e.Settings.TopK },
        BudgetIncreased => this with { SearchDone = false, Queued = false },
        SearchCompleted => this with { SearchDone = true },
        FinalTrainingQueued => this with { Queued = true },
        _ => this,
    };
}
