using NasActors.Search.Events;

namespace NasActors.Search;

/// <summary>
/// An event that the state it would be applied to makes impossible: a damaged or hand-edited
/// journal. The message says what it contradicts; whoever folds stored events adds where it is.
/// </summary>
public sealed class ImpossibleEventException(string message) : Exception(message);

/// <summary>
/// What the search's events may never say, given the state before them. The coordinator decides
/// only events that pass (<see cref="SearchState"/>'s decide methods); these checks are for what
/// it did not decide, so a journal that says otherwise is refused instead of folded into wrong counts.
/// </summary>
internal static class Invariants
{
    /// <summary>Why <paramref name="evt"/> cannot follow <paramref name="s"/> (null: it can).</summary>
    public static string? Contradiction(SearchState s, ISearchEvent evt) => evt switch
    {
        SearchStarted e => s.Settings is not null ? "the search had already started"
            : e.Settings.EarlyStop is { } stop && !StoppingRules.Kinds.Contains(stop.Kind) ? $"unknown early stopping \"{stop.Kind}\""
            : null,
        _ when s.Settings is null => "the search has not started",
        BudgetIncreased e => e.Budget <= s.Budget ? $"the budget {e.Budget} is not above {s.Budget}" : null,
        ChildSampled e => s.Children.ContainsKey(e.ChildId) ? $"child {e.ChildId} was already sampled" : Undecodable(s, e),
        ChildAssigned e => Job(s, e.ChildId, e.Final, out var job) ?? (job!.Status != JobStatus.Queued ? $"{Training(e.ChildId, e.Final)} is {Name(job.Status)}, not waiting for a worker" : null),
        ChildRequeued e => Job(s, e.ChildId, e.Final, out var job) ?? (job!.Status != JobStatus.Running ? $"{Training(e.ChildId, e.Final)} is {Name(job.Status)}, not on a worker" : null),
        ChildTrained e => Result(s, e.ChildId, false),
        ChildFailed e => Result(s, e.ChildId, false),
        FinalTrainingCompleted e => Result(s, e.ChildId, true),
        FinalTrainingFailed e => Result(s, e.ChildId, true),
        ChildReachedRung e => Rung(s, e),
        FinalTrainingQueued e => s.FinalQueued ? "the final training was already queued"
            : !s.SearchCompleted ? "the search has not completed"
            : e.ChildIds.Select(id => Finalist(s, id)).FirstOrDefault(why => why is not null),
        SearchCompleted => s.SearchCompleted ? "the search had already completed" : null,
        _ => null,
    };

    private static string? Job(SearchState s, long childId, bool final, out TrainingJob? job)
    {
        job = null;
        if (!s.Children.TryGetValue(childId, out var child)) return $"child {childId} was never sampled";
        job = child.Job(final);
        return job is null ? $"child {childId} was never queued for final training" : null;
    }

    /// <summary>A result needs a job that awaits one (<see cref="SearchState.AwaitsResult"/>); else why not.</summary>
    private static string? Result(SearchState s, long childId, bool final) =>
        s.AwaitsResult(childId, final) ? null
        : Job(s, childId, final, out var job)
          ?? (job!.Done ? $"{Training(childId, final)} already ended ({Name(job.Status)})" : $"{Training(childId, final)} was never assigned to a worker");

    /// <summary>A child's decisions must be a network of the run's space (every reader decodes them).</summary>
    private static string? Undecodable(SearchState s, ChildSampled e)
    {
        try
        {
            s.Settings!.Decisions.Decode(e.Decisions);
            return null;
        }
        catch (ArgumentException x)
        {
            return $"child {e.ChildId}'s decisions are no network of the run's space ({x.Message})";
        }
    }

    private static string? Rung(SearchState s, ChildReachedRung e) =>
        s.Stopping is null ? "the run has no early stopping"
        : Result(s, e.ChildId, false)
          ?? (s.Children[e.ChildId].RungAt(e.Epoch) is not null ? $"child {e.ChildId} already reached its rung at epoch {e.Epoch}" : null);

    private static string? Finalist(SearchState s, long childId) =>
        !s.Children.TryGetValue(childId, out var child) ? $"child {childId} was never sampled"
        : child.Search.Status != JobStatus.Trained ? $"child {childId} is queued for final training but its search training is {Name(child.Search.Status)}"
        : child.Final is not null ? $"child {childId} is queued for final training twice"
        : null;

    private static string Training(long childId, bool final) => $"child {childId}'s {(final ? "final" : "search")} training";

    private static string Name(JobStatus status) => status.ToString().ToLowerInvariant();
}
