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
            : ObjectiveSet.Errors(e.Settings) is [var wrong, ..] ? $"its objectives are wrong: {wrong}"
            : null,
        _ when s.Settings is null => "the search has not started",
        BudgetIncreased e => e.Budget <= s.Budget ? $"the budget {e.Budget} is not above {s.Budget}" : null,
        TimeoutsChanged e => e.SearchSeconds < 1 || e.FinalSeconds < 1 ? $"a timeout of {Math.Min(e.SearchSeconds, e.FinalSeconds)} s is not at least 1 s" : null,
        ChildSampled e => s.Children.ContainsKey(e.ChildId) ? $"child {e.ChildId} was already sampled" : Undecodable(s, e),
        ChildAssigned e => Job(s, e.ChildId, e.Final, out var job) ?? (job!.Status != JobStatus.Queued ? $"{Training(e.ChildId, e.Final)} is {Name(job.Status)}, not waiting for a worker" : null),
        ChildRequeued e => Job(s, e.ChildId, e.Final, out var job) ?? (job!.Status != JobStatus.Running ? $"{Training(e.ChildId, e.Final)} is {Name(job.Status)}, not on a worker" : null),
        ChildTrained e => Result(s, e.ChildId, false),
        ChildFailed e => Result(s, e.ChildId, false),
        ChildRefused e => Result(s, e.ChildId, false)
                          ?? (e.Costs.Exceeded(s.Settings.Constraints).Count == 0 ? $"child {e.ChildId} is refused within the run's bounds" : null),
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

    /// <summary>
    /// Why a state restored from a stored snapshot cannot be one the events made (null: it can): a
    /// snapshot edited by hand, or damaged where its bytes still decode. Checked in one pass, as a
    /// status of a large run reads one in a fresh process.
    /// </summary>
    public static string? Restored(SearchState s)
    {
        // Before the search started there is nothing to hold.
        if (s.Settings is null) return s.Children.IsEmpty && s.NextChildId == 0 && s.Trained + s.Failed + s.Stopped == 0 ? null : "it holds children but no search settings";
        if (s.Budget < 1) return $"its budget is {s.Budget}";
        var decisions = s.Settings.Decisions;
        var rule = s.Stopping;
        var (trained, failed, stopped, refused) = (0, 0, 0, 0);
        double? best = null;
        foreach (var c in s.Children.Values)
        {
            var why = c.Id < 0 || c.Id >= s.NextChildId ? $"child {c.Id} is outside 0..{s.NextChildId - 1}, the ids sampled"
                : decisions.Invalid(c.Decisions) is { } bad ? $"child {c.Id}'s decisions are no network of the run's space ({bad})"
                : Job(c.Id, c.Search, final: false) ?? (c.Final is { } f ? Job(c.Id, f, final: true) : null)
                  ?? Rungs(c, rule);
            if (why is not null) return why;
            switch (c.Search.Status)
            {
                case JobStatus.Trained:
                    trained++;
                    best = Math.Max(best ?? double.MinValue, c.Search.Outcome!.Accuracy);
                    break;
                case JobStatus.Failed:
                    failed++;
                    break;
                case JobStatus.Stopped:
                    stopped++;
                    break;
                case JobStatus.Refused:
                    refused++;
                    break;
            }
        }
        return (trained, failed, stopped, refused) != (s.Trained, s.Failed, s.Stopped, s.Refused)
            ? $"it counts {s.Trained} trained, {s.Failed} failed, {s.Stopped} stopped, {s.Refused} refused, and its children say {trained}, {failed}, {stopped}, {refused}"
            : best != s.BestAccuracy ? $"its best accuracy is {s.BestAccuracy}, and its trained children's is {best}"
            : null;
    }

    private static string? Job(long id, TrainingJob job, bool final) =>
        job.Attempts < 0 ? $"{Training(id, final)} has {job.Attempts} attempts"
        : job.Status == JobStatus.Running && job.WorkerId is null ? $"{Training(id, final)} is running on no worker"
        : (job.Status is JobStatus.Trained or JobStatus.Refused) != (job.Outcome is not null) ? $"{Training(id, final)} is {Name(job.Status)} {(job.Outcome is null ? "without" : "with")} an outcome"
        : job.Outcome is { } o && !(o.Accuracy is >= 0 and <= 1 && o.TestAccuracy is null or >= 0 and <= 1 && double.IsFinite(o.Loss) && o.ResumedEpochs >= 0)
            ? $"{Training(id, final)} has an outcome out of range (accuracy {o.Accuracy}, test accuracy {o.TestAccuracy}, loss {o.Loss})"
        : null;

    private static string? Rungs(ChildRecord c, IStoppingRule? rule)
    {
        if (c.Rungs is not { } rungs) return c.Search.Status == JobStatus.Stopped ? $"child {c.Id} is stopped at no rung" : null;
        if (rule is null) return $"child {c.Id} has rungs in a run without early stopping";
        var epochs = rule.RungEpochs(c.Id);
        for (var i = 0; i < rungs.Count; i++)
        {
            var r = rungs[i];
            if (!epochs.Contains(r.Epoch) || !double.IsFinite(r.Accuracy) || rungs.FindIndex(p => p.Epoch == r.Epoch) != i)
                return $"child {c.Id}'s rung at epoch {r.Epoch} ({r.Accuracy}) is no rung of its own, or is there twice";
            if (r.Stopped != (i == rungs.Count - 1 && c.Search.Status == JobStatus.Stopped))
                return $"child {c.Id} is {Name(c.Search.Status)}, and its rung at epoch {r.Epoch} says {(r.Stopped ? "stopped" : "going on")}";
        }
        return null;
    }

    private static string? Finalist(SearchState s, long childId) =>
        !s.Children.TryGetValue(childId, out var child) ? $"child {childId} was never sampled"
        : child.Search.Status != JobStatus.Trained ? $"child {childId} is queued for final training but its search training is {Name(child.Search.Status)}"
        : child.Final is not null ? $"child {childId} is queued for final training twice"
        : null;

    private static string Training(long childId, bool final) => $"child {childId}'s {(final ? "final" : "search")} training";

    private static string Name(JobStatus status) => status.ToString().ToLowerInvariant();
}
