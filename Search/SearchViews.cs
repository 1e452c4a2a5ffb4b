using NasActors.Protocol.Messages;
using NasActors.SearchSpace;

namespace NasActors.Search;

/// <summary>A run at a glance (nas status).</summary>
public sealed record RunSummary(
    string Strategy, int Budget, int Sampled, int Completed, int Running, int Failed, string? CommonestFailure, int IgnoredResults,
    double? BestAccuracy, int PolicyVersion, bool SearchCompleted, int FinalQueued, int FinalCompleted, bool Finished, double ElapsedS,
    int Stopped, long EpochsTrained, bool? Writing, int Interrupted, long ResumedEpochs)
{
    /// <summary>Children refused over a bound, untrained (they do not count against the budget).</summary>
    public int Refused { get; init; }

    /// <summary>The objectives of a search of several (null: accuracy alone).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Objectives { get; init; }

    /// <summary>The trained children's hypervolume, normalised by <see cref="Reference"/> into [0, 1] (null: accuracy alone, or nothing measured yet).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? Hypervolume { get; init; }

    /// <summary>The reference point of <see cref="Hypervolume"/>: accuracy 0 and each cost's reference, as text.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Reference { get; init; }

    /// <summary>A line for the user when the bounds refuse every child so far (null: they do not).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Note { get; init; }
}

/// <summary>A child stopped early (nas top --all): the rung it reached and its value there.</summary>
public sealed record StoppedChild(long ChildId, int Epoch, double Accuracy);

/// <summary>A trained child in rank order (nas top, export); <see cref="LatencyMs"/> where it was measured.</summary>
public sealed record RankedChild(int Rank, long ChildId, double Accuracy, long Params, long MultAdds, double? FinalAccuracy, double? FinalTestAccuracy, Genotype Genotype,
    double? LatencyMs = null);

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
            s.Children.Values.Sum(c => (long)(c.Search.Outcome?.ResumedEpochs ?? 0) + (c.Final?.Outcome?.ResumedEpochs ?? 0)))
        {
            Refused = s.Refused,
            Objectives = s.Objectives is null ? null : string.Join(",", settings.Objectives!),
            Hypervolume = Hypervolume(s) is { } hv ? Math.Round(hv, 6) : null,
            Reference = s.CostReference is { } r ? string.Join(", ", r.Select(x => $"{x.Key} {Protocol.Messages.ChildCosts.Format(x.Value)}").Prepend("accuracy 0")) : null,
            Note = RefusalNote(s),
        };
    }

    /// <summary>After this many samples, all refused and nothing else, the user hears that the bounds refuse everything.</summary>
    public const int RefusedAlone = 20;

    /// <summary>Says when the bounds have refused every child so far (at least <see cref="RefusedAlone"/>), with the smallest costs seen; null otherwise.</summary>
    public static string? RefusalNote(SearchState s)
    {
        if (s.Refused < RefusedAlone || s.Trained + s.Failed + s.Stopped > 0) return null;
        var refused = s.Children.Values.Where(c => c.Search.Status == JobStatus.Refused).Select(c => c.Search.Outcome!.Costs).ToList();
        var smallest = s.Settings!.Constraints!.Keys
            .Select(name => (name, min: refused.Select(c => c.Value(name)).Where(v => v is not null).DefaultIfEmpty(null).Min()))
            .Where(x => x.min is not null)
            .Select(x => $"{x.name} {Protocol.Messages.ChildCosts.Format(x.min!.Value)} (bound {Protocol.Messages.ChildCosts.Format(s.Settings.Constraints[x.name])})");
        var ended = s.RefusedEverything ? $"; the search ended after {SearchState.RefusalLimit(s.Budget)} refusals" : "";
        return $"the bounds refused every one of the first {s.Refused} children (smallest seen: {string.Join(", ", smallest)}){ended}: loosen them (in a new run), or search smaller networks (fewer cells or filters)";
    }

    /// <summary>The trained children's objectives to minimise, normalised by the run's reference (empty: accuracy alone, or no reference yet).</summary>
    public static IEnumerable<(ChildRecord Child, double[] Point)> Points(SearchState s) =>
        s.Objectives is not { } o || s.CostReference is not { } reference ? []
            : s.Children.Values.Where(c => c.Search.Status == JobStatus.Trained)
                .Select(c => (Child: c, Point: o.Point(c.Search.Outcome!.Accuracy, c.Search.Outcome.Costs, reference)))
                .Where(x => x.Point is not null)
                .Select(x => (x.Child, x.Point!));

    /// <summary>The hypervolume of the trained children (null: accuracy alone, or no costs known yet).</summary>
    public static double? Hypervolume(SearchState s) =>
        s.Objectives is null || s.CostReference is null ? null : Pareto.Hypervolume(Points(s).Select(p => (IReadOnlyList<double>)p.Point));

    /// <summary>The non-dominated trained children under the run's objectives, best accuracy first (ties by the earlier child).</summary>
    public static IReadOnlyList<RankedChild> Front(SearchState s)
    {
        var points = Points(s).ToList();
        var front = Pareto.Front(points.Select(p => (IReadOnlyList<double>)p.Point).ToList()).Select(i => points[i].Child);
        return front.Order(Ranking.By<ChildRecord>(c => c.Search.Outcome!.Accuracy, c => c.Id)).Select((c, i) => Ranked(s, c, i + 1)).ToList();
    }

    /// <summary>
    /// The <paramref name="k"/> children to retrain: the top K by accuracy; in a search of several
    /// objectives, K spread along the front (<see cref="Pareto.SpreadOrder"/> of the trained children,
    /// in id order; children without every cost measured come after, by accuracy).
    /// </summary>
    public static IReadOnlyList<long> Finalists(SearchState s, int k)
    {
        if (s.Objectives is not { } o) return Top(s, k).Select(c => c.ChildId).ToList();
        var trained = s.Children.Values.Where(c => c.Search.Status == JobStatus.Trained).ToList();
        return Finalists(o, trained.Select(c => (c.Id, c.Search.Outcome!.Accuracy, c.Search.Outcome.Costs)), k);
    }

    /// <summary>The finalists of a search of several objectives among <paramref name="trained"/> (see <see cref="Finalists(SearchState, int)"/>).</summary>
    public static IReadOnlyList<long> Finalists(ObjectiveSet objectives, IEnumerable<(long ChildId, double Accuracy, Protocol.Messages.ChildCosts Costs)> trained, int k)
    {
        var all = trained.OrderBy(t => t.ChildId).Select(t => (t.ChildId, t.Accuracy, Point: objectives.RawPoint(t.Accuracy, t.Costs))).ToList();
        var measured = all.Where(t => t.Point is not null).ToList();
        var spread = Pareto.SpreadOrder(measured.Select(t => (IReadOnlyList<double>)t.Point!).ToList()).Select(i => measured[i].ChildId);
        var rest = all.Where(t => t.Point is null).Order(Ranking.By<(long ChildId, double Accuracy, double[]? Point)>(t => t.Accuracy, t => t.ChildId)).Select(t => t.ChildId);
        return spread.Concat(rest).Take(k).ToList();
    }

    private static RankedChild Ranked(SearchState s, ChildRecord c, int rank) =>
        new(rank, c.Id, c.Search.Outcome!.Accuracy, c.Search.Outcome.Parameters, c.Search.Outcome.MultAdds,
            c.Final?.Outcome?.Accuracy, c.Final?.Outcome?.TestAccuracy, s.Genotype(c.Id), c.Search.Outcome.LatencyMs);

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
        return Ranking.Trained(s).Take(k).Select((c, i) => Ranked(s, c, i + 1)).ToList();
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
        s.Stopped,
        s.Refused);

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
