using NasActors.Persistence;
using NasActors.Persistence.Events;
using NasActors.Protocol;
using NasActors.SearchSpace;

namespace NasActors.Evaluator;

public sealed record LeaderboardEntry(long ChildId, double Accuracy, long Parameters, Genotype Genotype, double? FinalAccuracy = null, double? FinalTestAccuracy = null);

/// <summary>The serializable form of a <see cref="Leaderboard"/> and how far into the journal it has read.</summary>
[WireName("snapshot.leaderboard")]
public sealed record LeaderboardSnapshot(
    long Offset, int Capacity, int TopK, bool SearchDone, bool FinalQueued, IReadOnlyList<LeaderboardEntry> Entries, IReadOnlyList<LeaderboardEntry> Pending) : IWireMessage;

/// <summary>
/// The best <see cref="Capacity"/> trained children, folded from the search's events, in
/// <see cref="Ranking"/>'s order. Pure: the evaluator feeds it the live
/// stream, <c>nas top</c> the stored journal, and both must agree.
/// </summary>
public sealed class Leaderboard(int capacity)
{
    private static readonly IComparer<LeaderboardEntry> Order = Ranking.By<LeaderboardEntry>(e => e.Accuracy, e => e.ChildId);

    private readonly SortedSet<LeaderboardEntry> entries = new(Order);
    private readonly Dictionary<long, Genotype> pending = new();

    public int Capacity { get; } = capacity;
    public IReadOnlyList<LeaderboardEntry> Entries => entries.ToList();
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
            case ChildSampled e:
                pending[e.ChildId] = e.Genotype;
                break;
            case ChildTrained e:
                if (!pending.Remove(e.ChildId, out var genotype)) break;
                entries.Add(new LeaderboardEntry(e.ChildId, e.Accuracy, e.Parameters, genotype));
                if (entries.Count > Capacity) entries.Remove(entries.Max!);
                break;
            case ChildFailed e:
                pending.Remove(e.ChildId);
                break;
            case SearchCompleted:
                SearchDone = true;
                break;
            case FinalTrainingQueued:
                FinalQueued = true;
                break;
            case FinalTrainingCompleted e:
                var entry = entries.FirstOrDefault(x => x.ChildId == e.ChildId);
                if (entry is null) break;
                entries.Remove(entry);
                entries.Add(entry with { FinalAccuracy = e.Accuracy, FinalTestAccuracy = e.TestAccuracy });
                break;
        }
    }

    public LeaderboardSnapshot ToSnapshot(long offset) =>
        new(offset, Capacity, TopK, SearchDone, FinalQueued, entries.ToList(), pending.Select(p => new LeaderboardEntry(p.Key, 0, 0, p.Value)).ToList());

    public static Leaderboard FromSnapshot(LeaderboardSnapshot s)
    {
        var board = new Leaderboard(s.Capacity) { TopK = s.TopK, SearchDone = s.SearchDone, FinalQueued = s.FinalQueued };
        foreach (var e in s.Entries) board.entries.Add(e);
        foreach (var p in s.Pending) board.pending[p.ChildId] = p.Genotype;
        return board;
    }
}
