using NasActors.Protocol.Messages;
using NasActors.SearchSpace;

namespace NasActors.Search;

/// <summary>A run at a glance (nas status).</summary>
public sealed record RunSummary(
    string Strategy, int Budget, int Sampled, int Completed, int Running, int Failed, string? CommonestFailure, int IgnoredResults,
    double? BestAccuracy, int PolicyVersion, bool SearchCompleted, int FinalQueued, int FinalCompleted, bool Finished, double ElapsedS,
    int Stopped, long EpochsTrained, bool? Writing, int Interrupted, long ResumedEpochs);

/// <summary>A child stopped early (nas top --all): the rung it reached and its value there.</summary>
public sealed record StoppedChild(long ChildId, int Epoch, double Accuracy);

/// <summary>A trained child in rank order (nas top, export).</summary>
public sealed record RankedChild(int Rank, long ChildId, double Accuracy, long Params, long MultAdds, double? FinalAccuracy, double? FinalTestAccuracy, Genotype Genotype);

/// <summary>A failed training (nas failures).</summary>
public sealed record FailedChild(long ChildId, bool Final, string? Worker, int Attempts, string Reason);

/// <summary>The read side's projections of a <see cref="SearchState"/>: one definition each, for every command and the coordinator.</summary>
public static class SearchViews
{
    /// <param name="writing">whether a process writes the run now (null: not known, as on another machine)</param>
    /// <param name="stoppedAt">when a run no process writes was last written: its clock stops there</param>
    public static RunSummary Summary(SearchState s, DateTimeOffset now, bool? writing = null, DateTimeOffset? stoppedAt = null)
    {
        var settings = s.Settings ?? throw new InvalidOperationException("a summary needs a started search: read the run through its store, which says when none has started");
        var end = s.CompletedAt is { } c && s.Finished ? c : writing == false && stoppedAt is { } last ? last : now;
        // Children in training when the writing process stopped train no more: interrupted, requeued on resume.
        var stopped = writing == false;
        return new RunSummary(settings.Strategy, s.Budget, s.Sampled, s.Trained, stopped ? 0 : s.RunningCount, s.Failed,
            FailureGroups(s).Select(g => $"{g.Key} ({g.Count()}x)").FirstOrDefault(),
            s.IgnoredResults, s.BestAccuracy, s.PolicyVersion, s.SearchCompleted,
            s.FinalChildren.Count(), s.FinalChildren.Count(x => x.Final!.Done), s.Finished, (end - s.StartedAt!.Value).TotalSeconds,
            s.Stopped, EpochsTrained(s), writing, stopped ? s.RunningCount : 0,
            s.Children.Values.Sum(c => (long)(c.Search.Outcome?.ResumedEpochs ?? 0) + (c.Final?.Outcome?.ResumedEpochs ?? 0)));
    }

    /// <summary>
    /// The search's compute in child-epochs: a trained child's full budget, a stopped one's rung, or
    /// what it trained before its stop was decided (what the recorded outcomes cost; retried and
    /// final trainings are not counted).
    /// </summary>
    public static long EpochsTrained(SearchState s) =>
        s.Children.Values.Sum(c => c.Search.Status switch
        {
            JobStatus.Trained => (long)s.Settings!.Search.Epochs,
            JobStatus.Stopped => c.StoppedAt is { } at ? at.EpochsTrained ?? at.Epoch : 0,
            _ => 0,
        });

    /// <summary>Children stopped early, best rung value first within the highest rung.</summary>
    public static IReadOnlyList<StoppedChild> Stopped(SearchState s) =>
        s.Children.Values.Where(c => c.StoppedAt is not null)
            .Select(c => new StoppedChild(c.Id, c.StoppedAt!.Epoch, c.StoppedAt.Accuracy))
            .OrderByDescending(c => c.Epoch).ThenByDescending(c => c.Accuracy).ThenBy(c => c.ChildId)
            .ToList();

    /// <summary>The best <paramref name="k"/> trained children, in <see cref="Ranking"/>'s order.</summary>
    public static IReadOnlyList<RankedChild> Top(SearchState s, int k)
    {
        return Ranking.Trained(s)
            .Take(k)
            .Select((c, i) => new RankedChild(i + 1, c.Id, c.Search.Outcome!.Accuracy, c.Search.Outcome.Parameters, c.Search.Outcome.MultAdds,
                c.Final?.Outcome?.Accuracy, c.Final?.Outcome?.TestAccuracy, s.Genotype(c.Id)))
            .ToList();
    }

    /// <summary>
    /// The live status the coordinator answers with: finished only when <paramref name="stored"/>
    /// (nothing left to write), running children with the epochs their workers last reported.
    /// </summary>
    public static SearchStatus Status(SearchState s, bool stored, IReadOnlyDictionary<long, (int Epoch, int Epochs)> progress, string run) => new(
        s.Budget, s.Sampled, s.Trained, s.Failed, s.RunningCount, s.BestAccuracy, s.PolicyVersion,
        s.SearchCompleted, s.FinalChildren.Count(), s.FinalChildren.Count(c => c.Final!.Done),
        s.Settings is not null && s.Finished && stored,
        s.RunningJobs
            .Select(j => new RunningChild(j.ChildId, j.Final, j.WorkerId, progress.GetValueOrDefault(j.ChildId).Epoch, progress.GetValueOrDefault(j.ChildId).Epochs))
            .ToList(),
        run,
        s.Stopped);

    public static IReadOnlyList<FailedChild> Failures(SearchState s) =>
        s.Children.Values
            .SelectMany(c => new[] { (c, Final: false, Job: c.Search), (c, Final: true, Job: c.Final) })
            .Where(x => x.Job is { Status: JobStatus.Failed })
            .Select(x => new FailedChild(x.c.Id, x.Final, x.Job!.WorkerId, x.Job.Attempts, x.Job.FailReason ?? ""))
            .ToList();

    /// <summary>Failures grouped by their <see cref="FirstLine"/>, commonest first (ties by reason).</summary>
    public static IEnumerable<IGrouping<string, FailedChild>> FailureGroups(SearchState s) =>
        Failures(s).GroupBy(f => FirstLine(f.Reason)).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal);

    /// <summary>A failure reason without the command output that may follow it: what groups failures.</summary>
    public static string FirstLine(string reason) => reason.Split('\n')[0].Split("; standard error")[0];
}
