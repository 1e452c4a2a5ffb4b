using NasActors.Protocol;
using NasActors.Search;
using NasActors.Search.Events;

namespace NasActors.Evaluator;

/// <summary>A trained child on the board: what its rank and the final-training request need (and, in a search of several objectives, its other costs).</summary>
public sealed record BoardEntry(long ChildId, double Accuracy, long Parameters)
{
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public long? MultAdds { get; init; }

    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? LatencyMs { get; init; }

    [System.Text.Json.Serialization.JsonIgnore] public Protocol.Messages.ChildCosts Costs => new(Parameters, MultAdds ?? 0, LatencyMs);
}

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
    /// <summary>The cost objectives of a search of several (absent: accuracy alone; the board then keeps every trained child).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Costs { get; init; }

    public static LeaderboardSnapshot Of(long offset, Leaderboard board, FinalTrainingRequest request) =>
        new(offset, board.Capacity, request.TopK, request.SearchDone, request.Queued, board.Entries) { Costs = board.Objectives?.Costs };

    public Leaderboard ToBoard() => Leaderboard.Restore(Capacity, Entries, Costs);

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
/// <see cref="Ranking"/>'s order. Pure: the evaluator feeds it the live stream; its finalists must
/// equal the journal's (<see cref="SearchViews.Finalists(SearchState, int)"/>). In a search of
/// several objectives it keeps every trained child with its costs (the front and its spread need
/// them all; an entry is a few numbers).
/// </summary>
public sealed class Leaderboard(int capacity)
{
    private static readonly IComparer<BoardEntry> Order = Ranking.By<BoardEntry>(e => e.Accuracy, e => e.ChildId);

    private readonly SortedSet<BoardEntry> entries = new(Order);

    public int Capacity { get; } = capacity;

    /// <summary>The run's objectives, from its first event (null: accuracy alone).</summary>
    public ObjectiveSet? Objectives { get; private set; }

    public IReadOnlyList<BoardEntry> Entries => entries.ToList();

    public void Apply(ISearchEvent evt)
    {
        switch (evt)
        {
            case SearchStarted started:
                Objectives = ObjectiveSet.For(started.Settings);
                break;
            case ChildTrained e when Objectives is not null:
                entries.Add(new BoardEntry(e.ChildId, e.Accuracy, e.Parameters) { MultAdds = e.MultAdds, LatencyMs = e.LatencyMs });
                break;
            case ChildTrained e:
                entries.Add(new BoardEntry(e.ChildId, e.Accuracy, e.Parameters));
                if (entries.Count > Capacity) entries.Remove(entries.Max!);
                break;
        }
    }

    /// <summary>The <paramref name="k"/> children to retrain: the best, or K spread along the front.</summary>
    public IReadOnlyList<long> Finalists(int k) =>
        Objectives is { } o ? SearchViews.Finalists(o, entries.Select(e => (e.ChildId, e.Accuracy, e.Costs)), k) : entries.Take(k).Select(e => e.ChildId).ToList();

    internal static Leaderboard Restore(int capacity, IEnumerable<BoardEntry> entries, IReadOnlyList<string>? costs = null)
    {
        var board = new Leaderboard(capacity);
        if (costs is not null) board.Objectives = new ObjectiveSet(costs, new Dictionary<string, double>(), 1);
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
