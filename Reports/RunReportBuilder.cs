using NasActors.Persistence;
using NasActors.Search;
using NasActors.Search.Events;
using NasActors.SearchSpace;

namespace NasActors.Reports;

/// <summary>
/// Folds a run's journal (events with their write times) into the views of a report. Pure: the
/// report command, the dashboard and the tests give it events and read the record it returns.
/// </summary>
public static class RunReportBuilder
{
    /// <summary>The share of trained children that counts as "the best" in the usage and distribution views.</summary>
    public const double TopFraction = 0.1;

    /// <param name="progress">Epoch progress of running children where the caller knows it (a dashboard beside a search).</param>
    /// <param name="writing">Whether a search writes the run now (false: it stopped, and the run's clock stops at its last event).</param>
    /// <param name="journal">Where the events were read, which a damaged entry's message names (default: the run's name).</param>
    public static RunReport Build(string name, IReadOnlyList<StoredEvent> events, DateTimeOffset now, int top = 10,
        IReadOnlyDictionary<long, (int Epoch, int Epochs)>? progress = null, bool? writing = null, string? journal = null)
    {
        if (writing == false && events.Count > 0) now = events[^1].At;
        // One pass: the state folds each entry (the first is the start, or the fold refuses it) and
        // the write times go where the state keeps none (spans, health, when children finished).
        var state = SearchState.Empty;
        var start = DateTimeOffset.MinValue;
        double Seconds(DateTimeOffset at) => Math.Round(Math.Max(0, (at - start).TotalSeconds), 3);

        var finished = new Dictionary<long, DateTimeOffset>();
        var workers = new List<string>();
        var workerIndex = new Dictionary<string, int>();
        var open = new Dictionary<(long, bool), (int Worker, DateTimeOffset At)>();
        var spans = new List<WorkerSpan>();
        var sick = new Dictionary<int, (DateTimeOffset At, string Reason)>();
        var unhealthy = new List<HealthSpan>();
        int Worker(string id)
        {
            if (workerIndex.TryGetValue(id, out var w)) return w;
            workers.Add(id);
            return workerIndex[id] = workers.Count - 1;
        }
        var weights = new Dictionary<long, (string Folder, string Worker)>();
        // A search of several objectives: the hypervolume after each trained child, once the reference is fixed.
        var hypervolume = (Children: new List<int>(), S: new List<double>(), Value: new List<double>());
        var front = new List<IReadOnlyList<double>>();
        void Close(long child, bool final, DateTimeOffset at, string outcome, int? resumed = null)
        {
            if (!open.Remove((child, final), out var o)) return;
            spans.Add(new WorkerSpan(o.Worker, child, final, Seconds(o.At), Seconds(at), outcome, resumed));
        }
        foreach (var entry in events)
        {
            state = entry.Apply(state, journal ?? name);
            var (_, at, evt) = entry;
            switch (evt)
            {
                case SearchStarted:
                    start = state.StartedAt!.Value;
                    break;
                case ChildAssigned e:
                    Close(e.ChildId, e.Final, at, "requeued");
                    open[(e.ChildId, e.Final)] = (Worker(e.WorkerId), at);
                    break;
                case WorkerUnhealthy e:
                    sick[Worker(e.WorkerId)] = (at, e.Reason);
                    break;
                case WorkerRecovered e when sick.Remove(Worker(e.WorkerId), out var episode):
                    unhealthy.Add(new HealthSpan(Worker(e.WorkerId), Seconds(episode.At), Seconds(at), episode.Reason));
                    break;
                case ChildTrained e:
                    finished[e.ChildId] = at;
                    Close(e.ChildId, false, at, "trained", e.ResumedEpochs);
                    if (state.Objectives is { } objectives && state.CostReference is { } reference
                        && objectives.Point(e.Accuracy, e.Costs, reference) is { } point)
                    {
                        var changed = Pareto.AddToFront(front, point);
                        hypervolume.Children.Add(state.Trained + state.Failed + state.Stopped);
                        hypervolume.S.Add(Seconds(at));
                        hypervolume.Value.Add(changed || hypervolume.Value.Count == 0 ? Math.Round(Pareto.Hypervolume(front), 6) : hypervolume.Value[^1]);
                    }
                    break;
                case ChildRefused e:
                    finished[e.ChildId] = at;
                    Close(e.ChildId, false, at, "refused");
                    break;
                case ChildFailed e:
                    finished[e.ChildId] = at;
                    Close(e.ChildId, false, at, "failed");
                    break;
                case ChildRequeued e:
                    Close(e.ChildId, e.Final, at, "requeued");
                    break;
                case ChildReachedRung { Stopped: true } e:
                    finished[e.ChildId] = at;
                    Close(e.ChildId, false, at, "stopped");
                    break;
                case FinalTrainingCompleted e:
                    Close(e.ChildId, true, at, "trained", e.ResumedEpochs);
                    if (e.Weights is { } folder) weights[e.ChildId] = (folder, e.WorkerId);
                    break;
                case FinalTrainingFailed e:
                    Close(e.ChildId, true, at, "failed");
                    break;
            }
        }
        var settings = state.Settings ?? throw new RunStoreException($"{name}: the journal holds no started search yet");
        spans.AddRange(open.Select(o => new WorkerSpan(o.Value.Worker, o.Key.Item1, o.Key.Item2, Seconds(o.Value.At), null, "running")));
        spans.Sort((a, b) => a.StartS.CompareTo(b.StartS));
        unhealthy.AddRange(sick.Select(u => new HealthSpan(u.Key, Seconds(u.Value.At), null, u.Value.Reason)));
        unhealthy.Sort((a, b) => a.StartS.CompareTo(b.StartS));

        var children = state.Children.Values.ToList();
        var genotypes = children.ToDictionary(c => c.Id, c => state.Genotype(c.Id));
        var trained = Ranking.Trained(state).ToList();
        var best = trained.Take(Math.Max(1, (int)Math.Ceiling(trained.Count * TopFraction))).ToList();
        var window = MovingWindow(children.Count);
        var accuracies = children.Select(c => c.Search.Outcome is { } o && c.Search.Status == JobStatus.Trained ? o.Accuracy : (double?)null).ToList();

        var table = new ChildTable(
            children.Select(c => c.Id).ToList(),
            children.Select(c => StatusName(c.Search.Status)).ToList(),
            accuracies,
            children.Select(c => finished.TryGetValue(c.Id, out var at) ? Seconds(at) : (double?)null).ToList(),
            children.Select(c => c.Search.Outcome?.Parameters).ToList(),
            children.Select(c => c.Search.Outcome?.MultAdds).ToList(),
            children.Select(c => c.PolicyVersion).ToList(),
            RunningBest(accuracies),
            MovingMean(accuracies, window).Select(m => m is { } v ? Math.Round(v, 6) : m).ToList(),
            children.Select(c => c.Final?.Outcome?.Accuracy).ToList(),
            children.Select(c => c.Final?.Outcome?.TestAccuracy).ToList(),
            children.Select(c => CellCode.Encode(genotypes[c.Id].Normal)).ToList(),
            children.Select(c => CellCode.Encode(genotypes[c.Id].Reduction)).ToList(),
            children.Select(c => c.StoppedAt?.Epoch).ToList(),
            children.Select(c => c.StoppedAt?.Accuracy).ToList())
        {
            LatencyMs = children.Any(c => c.Search.Outcome?.LatencyMs is not null) ? children.Select(c => c.Search.Outcome?.LatencyMs).ToList() : null,
        };

        var running = state.RunningJobs.Select(j =>
        {
            var since = open.TryGetValue((j.ChildId, j.Final), out var o) ? Seconds(o.At) : 0;
            var p = progress is not null && progress.TryGetValue(j.ChildId, out var q) ? q : ((int, int)?)null;
            return new RunningNow(j.ChildId, j.Final, j.WorkerId, since, p?.Item1, p?.Item2);
        }).ToList();

        return new RunReport(
            name, SearchViews.Summary(state, now, writing), settings, start, events.Count == 0 ? 0 : events[^1].SequenceNr, table, window,
            Policy(children),
            ParetoFront(trained.Select(c => (c.Id, c.Search.Outcome!.Parameters, c.Search.Outcome.Accuracy))),
            Usage(trained.Select(c => genotypes[c.Id].Normal).ToList(), best.Select(c => genotypes[c.Id].Normal).ToList(), settings.Decisions),
            Usage(trained.Select(c => genotypes[c.Id].Reduction).ToList(), best.Select(c => genotypes[c.Id].Reduction).ToList(), settings.Decisions),
            trained.Take(top).Select((c, i) => new TopChild(i + 1, c.Id, c.Search.Outcome!.Accuracy, c.Final?.Outcome?.Accuracy, c.Final?.Outcome?.TestAccuracy,
                c.Search.Outcome.Parameters, c.Search.Outcome.MultAdds, CellCode.Encode(genotypes[c.Id].Normal), CellCode.Encode(genotypes[c.Id].Reduction),
                GenotypeText.Format(genotypes[c.Id]), weights.GetValueOrDefault(c.Id).Folder, weights.GetValueOrDefault(c.Id).Worker)).ToList(),
            workers, SpanTable.Of(spans), unhealthy,
            SearchViews.FailureGroups(state)
                .Select(g => new FailureGroup(g.Key, g.Count(), g.Select(f => f.ChildId).Take(20).ToList(), Truncate(g.First().Reason, 2000))).ToList(),
            running,
            trained.Count == 0 ? null : Summarize(best.Select(c => c.Search.Outcome!.Accuracy)),
            writing,
            Rungs(state))
        {
            Objectives = state.Objectives is { } o
                ? new ObjectivesView(o.Costs, o.Bounds, SearchViews.Front(state).Select(c => c.ChildId).ToList(), hypervolume.Children, hypervolume.S, hypervolume.Value,
                    children.Select(c => c.Search.Outcome?.LatencyDevice).FirstOrDefault(d => d is not null))
                : null,
        };
    }

    /// <summary>Each rung's values, its cut now and the children stopped there.</summary>
    private static IReadOnlyList<RungView> Rungs(SearchState state)
    {
        if (state.Stopping is not { } rule) return [];
        var stoppedAt = state.Children.Values.Where(c => c.StoppedAt is not null).ToLookup(c => rule.RungOf(c.Id, c.StoppedAt!.Epoch), c => c.Id);
        return state.Rungs.Values.Select(r => new RungView(r.Key.Bracket, r.Key.Epoch, Summarize(r.Value), rule.Cut(r.Value),
            stoppedAt[r.Key].Count(), stoppedAt[r.Key].Order().Take(50).ToList())).ToList();
    }

    /// <summary>Each worker's share of the run and its health now, from the report's worker and health spans (one fold for both).</summary>
    public static IReadOnlyList<WorkerSummary> Workers(RunReport report)
    {
        var spans = report.Timeline.Rows.ToLookup(s => s.Worker);
        var stillUnhealthy = report.Unhealthy.Where(h => h.EndS is null).ToDictionary(h => h.Worker, h => h.Reason);
        return Enumerable.Range(0, report.Workers.Count).OrderBy(w => report.Workers[w], StringComparer.Ordinal).Select(w =>
        {
            var g = spans[w];
            var id = report.Workers[w];
            var m = System.Text.RegularExpressions.Regex.Match(id, @"^(?<machine>[^/]+?)(:(?<pid>\d+))?/(?<device>.+)$");
            var ended = g.Where(s => s.EndS is not null && s.Outcome is "trained" or "failed" or "stopped").Select(s => s.EndS!.Value).ToList();
            return new WorkerSummary(id,
                m.Success ? m.Groups["machine"].Value : null,
                m.Groups["pid"].Success ? int.Parse(m.Groups["pid"].Value) : null,
                m.Success ? m.Groups["device"].Value : null,
                g.Count(s => s.Outcome == "trained" && !s.Final), g.Count(s => s.Outcome == "trained" && s.Final), g.Count(s => s.Outcome == "failed"), g.Count(s => s.Outcome == "stopped"), g.Count(s => s.Outcome == "requeued"),
                g.FirstOrDefault(s => s.EndS is null)?.ChildId,
                Math.Round(g.Sum(s => (s.EndS ?? report.Summary.ElapsedS) - s.StartS), 3),
                ended.Count > 0 ? report.StartedAt.AddSeconds(ended.Max()) : null,
                stillUnhealthy.ContainsKey(w) ? "unhealthy" : "healthy", stillUnhealthy.GetValueOrDefault(w),
                g.Count(s => s.ResumedEpochs > 0), g.Sum(s => s.ResumedEpochs ?? 0));
        }).ToList();
    }

    /// <summary>The moving mean's window: about a fiftieth of the run, at least 5 children, at most 200.</summary>
    public static int MovingWindow(int children) => Math.Clamp(children / 50, 5, 200);

    /// <summary>The best accuracy among children up to each index (null until one is trained).</summary>
    public static IReadOnlyList<double?> RunningBest(IReadOnlyList<double?> accuracies)
    {
        var result = new double?[accuracies.Count];
        double? best = null;
        for (var i = 0; i < accuracies.Count; i++)
        {
            if (accuracies[i] is { } a) best = best is { } b ? Math.Max(a, b) : a;
            result[i] = best;
        }
        return result;
    }

    /// <summary>The mean accuracy of the trained children among the last <paramref name="window"/> (null where none is trained).</summary>
    public static IReadOnlyList<double?> MovingMean(IReadOnlyList<double?> accuracies, int window)
    {
        var result = new double?[accuracies.Count];
        double sum = 0;
        var count = 0;
        for (var i = 0; i < accuracies.Count; i++)
        {
            if (accuracies[i] is { } a) { sum += a; count++; }
            if (i >= window && accuracies[i - window] is { } gone) { sum -= gone; count--; }
            result[i] = count > 0 ? sum / count : null;
        }
        return result;
    }

    /// <summary>
    /// The children no other child beats on both counts (fewer or equal parameters and higher or
    /// equal accuracy, one of them strictly), by parameters ascending.
    /// </summary>
    public static IReadOnlyList<long> ParetoFront(IEnumerable<(long Id, long Params, double Accuracy)> children)
    {
        var front = new List<long>();
        var best = double.NegativeInfinity;
        foreach (var c in children.OrderBy(c => c.Params).ThenByDescending(c => c.Accuracy).ThenBy(c => c.Id))
        {
            if (c.Accuracy <= best) continue;
            front.Add(c.Id);
            best = c.Accuracy;
        }
        return front;
    }

    /// <summary>Op and input shares over the run's own space: its ops, and the states its B blocks can take.</summary>
    public static CellUsage Usage(IReadOnlyList<Cell> all, IReadOnlyList<Cell> best, DecisionSpace space)
    {
        var inputs = Enumerable.Range(0, 2 + space.Blocks - 1).Select(GenotypeText.StateName).ToList();
        var ops = space.Definition.Ops;
        // Ops outside the space (none a strategy samples) have no bar.
        return new CellUsage([.. ops.Select(o => o.Name())], OpShare(all, space.Definition), OpShare(best, space.Definition), inputs,
            InputShare(all, inputs.Count), InputShare(best, inputs.Count), best.Count);
    }

    private static IReadOnlyList<double> OpShare(IReadOnlyList<Cell> cells, SpaceDefinition space)
    {
        var counts = new double[space.Ops.Count];
        foreach (var op in cells.SelectMany(c => c.Blocks).SelectMany(b => new[] { b.OpA, b.OpB }))
        {
            if (space.OpIndex(op) is var i and >= 0) counts[i]++;
        }
        return Normalize(counts);
    }

    private static IReadOnlyList<double> InputShare(IReadOnlyList<Cell> cells, int states)
    {
        var counts = new double[states];
        foreach (var b in cells.SelectMany(c => c.Blocks))
        {
            if (b.InputA < states) counts[b.InputA]++;
            if (b.InputB < states) counts[b.InputB]++;
        }
        return Normalize(counts);
    }

    private static double[] Normalize(double[] counts)
    {
        var total = counts.Sum();
        return total == 0 ? counts : counts.Select(c => c / total).ToArray();
    }

    private static IReadOnlyList<PolicyPoint> Policy(IReadOnlyList<ChildRecord> children) =>
        children.GroupBy(c => c.PolicyVersion).OrderBy(g => g.Key).Select(g =>
        {
            var rewards = g.Where(c => c.Search.Status == JobStatus.Trained).Select(c => c.Search.Outcome!.Accuracy).ToList();
            return new PolicyPoint(g.Key, g.Count(), rewards.Count, rewards.Count > 0 ? rewards.Average() : null, -g.Average(c => c.LogProbability));
        }).ToList();

    public static Distribution Summarize(IEnumerable<double> values)
    {
        var v = values.Order().ToArray();
        if (v.Length == 0) throw new ArgumentException("no values to summarize", nameof(values));
        double Quantile(double q)
        {
            var pos = q * (v.Length - 1);
            var lo = (int)Math.Floor(pos);
            var hi = Math.Min(lo + 1, v.Length - 1);
            return v[lo] + (v[hi] - v[lo]) * (pos - lo);
        }
        return new Distribution(v.Length, v[0], Quantile(0.25), Quantile(0.5), Quantile(0.75), v[^1]);
    }

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length] + " …";

    private static string StatusName(JobStatus status) => status.ToString().ToLowerInvariant();
}
