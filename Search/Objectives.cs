using System.Collections.Immutable;
using NasActors.Protocol.Messages;

namespace NasActors.Search;

/// <summary>
/// A search's objectives: validation accuracy (maximised) and the costs it is searched against
/// (<see cref="ChildCosts.Names"/>, minimised), with upper bounds on costs. A point of a child is
/// its objectives as values to minimise, normalised by the run's reference point: 1 - accuracy, then
/// each cost over its reference; the reference point is 1 in every objective, so the hypervolume of
/// a front lies in [0, 1].
/// </summary>
public sealed record ObjectiveSet(IReadOnlyList<string> Costs, IReadOnlyDictionary<string, double> Bounds, int LatencyBatch)
{
    /// <summary>PPO's scalar reward: <see cref="MnasNetReward"/> or <see cref="ParegoReward"/> (see <see cref="Reward"/>).</summary>
    public string Scalarization { get; init; } = DefaultReward;

    /// <summary>The run's seed: ParEGO's weights per child follow from it.</summary>
    public long Seed { get; init; }

    public const string MnasNetReward = "mnasnet", ParegoReward = "parego";

    public static readonly IReadOnlyList<string> Rewards = [MnasNetReward, ParegoReward];

    /// <summary>What a new search of several objectives stores, chosen by measurement (bench/RESULTS.md, "Accuracy against cost").</summary>
    public const string DefaultReward = ParegoReward;

    /// <summary>ParEGO's augmentation (Knowles 2006): the weighted sum's share beside the weighted maximum.</summary>
    public const double ParegoRho = 0.05;

    /// <summary>Images per timed inference at most: a batch past this only fails every child for memory.</summary>
    public const int MaxLatencyBatch = 1024;

    public const string Accuracy = "accuracy";

    public static readonly IReadOnlyList<string> Names = [Accuracy, .. ChildCosts.Names];

    /// <summary>
    /// MnasNet's soft-constraint exponent (Tan et al. 2019: w = -0.07 for each cost): PPO's scalar
    /// reward is accuracy x (cost / target)^w over the costs, the target being the bound where there
    /// is one, else the run's first measured cost.
    /// </summary>
    public const double RewardExponent = -0.07;

    /// <summary>The objectives of a run (null: accuracy alone, the paper's search).</summary>
    public static ObjectiveSet? For(SearchSettings? s)
    {
        var costs = (s?.Objectives ?? []).Where(o => o != Accuracy).ToList();
        return costs.Count == 0 ? null
            : new(costs, s!.Constraints ?? ImmutableDictionary<string, double>.Empty, s.LatencyBatch ?? 1) { Scalarization = s.PpoReward ?? DefaultReward, Seed = s.Seed };
    }

    public bool MeasuresLatency => Costs.Contains(ChildCosts.LatencyName) || Bounds.ContainsKey(ChildCosts.LatencyName);

    /// <summary>What a search job asks its worker for.</summary>
    public CostRequest Request => new(MeasuresLatency ? LatencyBatch : null, Bounds.Count > 0 ? Bounds : null);

    /// <summary>What is wrong with a run's objectives, bounds and latency batch (one line each).</summary>
    public static IReadOnlyList<string> Errors(SearchSettings s)
    {
        var errors = new List<string>();
        var objectives = s.Objectives ?? [Accuracy];
        foreach (var o in objectives.Where(o => !Names.Contains(o)))
            errors.Add($"unknown objective \"{o}\" (expected {string.Join(", ", Names)})");
        if (!objectives.Contains(Accuracy)) errors.Add($"the objectives must include {Accuracy} (the reward), got {string.Join(",", objectives)}");
        foreach (var twice in objectives.GroupBy(o => o).Where(g => g.Count() > 1))
            errors.Add($"objective \"{twice.Key}\" is listed twice");
        foreach (var (name, bound) in s.Constraints ?? ImmutableDictionary<string, double>.Empty)
        {
            if (!ChildCosts.Names.Contains(name))
                errors.Add($"a bound on \"{name}\", which is no cost (bounds are upper bounds on {string.Join(", ", ChildCosts.Names)})");
            else if (!objectives.Contains(name))
                errors.Add($"a bound on {name}, which is not searched (add it to the objectives: {string.Join(",", objectives.Append(name))})");
            if (!(bound > 0) || !double.IsFinite(bound)) errors.Add($"the bound on {name} must be a positive number, got {bound}");
        }
        if (s.LatencyBatch is < 1 or > MaxLatencyBatch) errors.Add($"latency batch must be between 1 and {MaxLatencyBatch}, got {s.LatencyBatch}");
        // Each worker times its own device: a bound or a front over CPUs and GPUs together would compare unlike things.
        if ((objectives.Contains(ChildCosts.LatencyName) || s.Constraints?.ContainsKey(ChildCosts.LatencyName) == true)
            && s.Devices.Select(d => d.StartsWith("cuda", StringComparison.Ordinal)).Distinct().Count() > 1)
            errors.Add($"latency is measured on each worker's own device: give devices of one kind for it, not {string.Join(",", s.Devices)}");
        if (s.PpoReward is { } reward && !Rewards.Contains(reward)) errors.Add($"ppo_reward must be {string.Join(" or ", Rewards)}, got \"{reward}\"");
        else if (s.PpoReward is not null && !objectives.Any(o => o != Accuracy)) errors.Add("ppo_reward needs objectives other than accuracy");
        return errors;
    }

    /// <summary>A child's point to minimise (see the type), or null while its costs are unknown.</summary>
    public double[]? Point(double accuracy, ChildCosts costs, IReadOnlyDictionary<string, double> reference)
    {
        if (RawPoint(accuracy, costs) is not { } point || !Costs.All(reference.ContainsKey)) return null;
        point[0] += 1;
        for (var i = 0; i < Costs.Count; i++) point[i + 1] /= reference[Costs[i]];
        return point;
    }

    /// <summary>A child's objectives to minimise in their own units (-accuracy, then each cost), or null while a cost is unknown: dominance and crowding need no reference.</summary>
    public double[]? RawPoint(double accuracy, ChildCosts costs)
    {
        var point = new double[1 + Costs.Count];
        point[0] = -accuracy;
        for (var i = 0; i < Costs.Count; i++)
        {
            if (costs.Value(Costs[i]) is not { } v) return null;
            point[i + 1] = v;
        }
        return point;
    }

    /// <summary>A rung's point of a child: its accuracy there with its costs (null: costs not known).</summary>
    public double[]? RungPoint(double accuracy, ChildCosts? costs) => costs is null ? null : RawPoint(accuracy, costs);

    /// <summary>
    /// The reference point once the first costs are known: a bound where there is one, else twice
    /// that first child's cost (chosen once, kept with the run, so hypervolumes stay comparable).
    /// </summary>
    public ImmutableSortedDictionary<string, double>? Reference(ChildCosts first)
    {
        var reference = ImmutableSortedDictionary.CreateBuilder<string, double>();
        foreach (var name in Costs)
        {
            if (Bounds.TryGetValue(name, out var bound)) reference[name] = bound;
            else if (first.Value(name) is { } v && v > 0) reference[name] = 2 * v;
            else return null;
        }
        return reference.ToImmutable();
    }

    /// <summary>
    /// PPO's scalar reward for child <paramref name="childId"/>. <see cref="MnasNetReward"/>: MnasNet's
    /// soft constraint (see <see cref="RewardExponent"/>; the reference's half is the first child's
    /// cost). <see cref="ParegoReward"/>: ParEGO's augmented Chebyshev scalarisation of the child's
    /// normalised point with weights drawn for the child (uniform on the simplex, fixed by the run's
    /// seed and the child's id), 1 minus it: each child pulls the policy toward its own part of the front.
    /// </summary>
    public double Reward(double accuracy, ChildCosts costs, IReadOnlyDictionary<string, double> reference, long childId)
    {
        if (Scalarization == ParegoReward && Point(accuracy, costs, reference) is { } point)
        {
            var weights = Weights(childId, point.Length);
            var max = point.Select((v, i) => weights[i] * v).Max();
            return 1 - (max + ParegoRho * point.Select((v, i) => weights[i] * v).Sum());
        }
        var reward = accuracy;
        foreach (var name in Costs)
        {
            var target = Bounds.TryGetValue(name, out var bound) ? bound : reference[name] / 2;
            if (costs.Value(name) is { } v && v > 0) reward *= Math.Pow(v / target, RewardExponent);
        }
        return reward;
    }

    /// <summary>ParEGO's weights for a child: <paramref name="count"/> values uniform on the simplex, from SplitMix64 of the run's seed and the child's id.</summary>
    public double[] Weights(long childId, int count)
    {
        var state = (ulong)Seed * 0x9E3779B97F4A7C15UL ^ (ulong)childId * 0xD1B54A32D192ED03UL;
        var w = new double[count];
        for (var i = 0; i < count; i++)
        {
            state += 0x9E3779B97F4A7C15UL;
            var z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            // -log of a uniform in (0, 1]: exponentials, normalised, are uniform on the simplex.
            w[i] = -Math.Log(((z >> 11) + 1) * (1.0 / (1UL << 53)));
        }
        var sum = w.Sum();
        for (var i = 0; i < count; i++) w[i] /= sum;
        return w;
    }
}

/// <summary>Pareto dominance, non-dominated sorting, crowding and hypervolume, for points to minimise.</summary>
public static class Pareto
{
    /// <summary>No worse in every objective and better in one.</summary>
    public static bool Dominates(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        var better = false;
        for (var i = 0; i < a.Count; i++)
        {
            if (a[i] > b[i]) return false;
            if (a[i] < b[i]) better = true;
        }
        return better;
    }

    /// <summary>NSGA-II's fast non-dominated sort: each point's front (0 is the non-dominated).</summary>
    public static int[] Fronts(IReadOnlyList<IReadOnlyList<double>> points)
    {
        var n = points.Count;
        var dominatedBy = new int[n];
        var dominates = new List<int>[n];
        for (var i = 0; i < n; i++) dominates[i] = [];
        for (var i = 0; i < n; i++)
        for (var j = i + 1; j < n; j++)
        {
            if (Dominates(points[i], points[j])) { dominates[i].Add(j); dominatedBy[j]++; }
            else if (Dominates(points[j], points[i])) { dominates[j].Add(i); dominatedBy[i]++; }
        }
        var fronts = new int[n];
        var current = Enumerable.Range(0, n).Where(i => dominatedBy[i] == 0).ToList();
        for (var f = 0; current.Count > 0; f++)
        {
            var next = new List<int>();
            foreach (var i in current)
            {
                fronts[i] = f;
                foreach (var j in dominates[i])
                    if (--dominatedBy[j] == 0) next.Add(j);
            }
            current = next;
        }
        return fronts;
    }

    /// <summary>NSGA-II's crowding distance of each point within its own front (the ends of a front: infinity).</summary>
    public static double[] Crowding(IReadOnlyList<IReadOnlyList<double>> points, int[] fronts)
    {
        var distance = new double[points.Count];
        if (points.Count == 0) return distance;
        foreach (var front in Enumerable.Range(0, points.Count).GroupBy(i => fronts[i]))
        {
            var members = front.ToArray();
            for (var m = 0; m < points[0].Count; m++)
            {
                var sorted = members.OrderBy(i => points[i][m]).ThenBy(i => i).ToArray();
                var span = points[sorted[^1]][m] - points[sorted[0]][m];
                distance[sorted[0]] = distance[sorted[^1]] = double.PositiveInfinity;
                if (span <= 0) continue;
                for (var k = 1; k < sorted.Length - 1; k++)
                    distance[sorted[k]] += (points[sorted[k + 1]][m] - points[sorted[k - 1]][m]) / span;
            }
        }
        return distance;
    }

    /// <summary>
    /// The points in NSGA-II's order of survival: by front, and within a front the largest crowding
    /// distance first (its two ends, then the points farthest from their neighbours), ties by index.
    /// The first K of a front are spread along it; the evaluator retrains K children so.
    /// </summary>
    public static IReadOnlyList<int> SpreadOrder(IReadOnlyList<IReadOnlyList<double>> points)
    {
        var fronts = Fronts(points);
        var crowding = Crowding(points, fronts);
        return Enumerable.Range(0, points.Count).OrderBy(i => fronts[i]).ThenByDescending(i => crowding[i]).ThenBy(i => i).ToList();
    }

    /// <summary>
    /// Adds <paramref name="point"/> to a non-dominated <paramref name="front"/> kept as points arrive,
    /// dropping those it dominates; false (the front unchanged) when a point there dominates or equals it.
    /// </summary>
    public static bool AddToFront(List<IReadOnlyList<double>> front, IReadOnlyList<double> point)
    {
        if (front.Any(p => Dominates(p, point) || p.SequenceEqual(point))) return false;
        front.RemoveAll(p => Dominates(point, p));
        front.Add(point);
        return true;
    }

    /// <summary>The indexes of the non-dominated points (equal points all stay).</summary>
    public static IReadOnlyList<int> Front(IReadOnlyList<IReadOnlyList<double>> points) =>
        Enumerable.Range(0, points.Count).Where(i => !points.Any(p => Dominates(p, points[i]))).ToList();

    /// <summary>
    /// The volume dominated by <paramref name="points"/> inside the box up to 1 in every objective
    /// (the normalised reference point); points outside it add nothing. Exact, by slicing along the
    /// last objective (n^(d-1) for d objectives: fronts of hundreds of points in 2 to 4 objectives).
    /// </summary>
    public static double Hypervolume(IEnumerable<IReadOnlyList<double>> points)
    {
        var inside = points.Where(p => p.All(v => v < 1)).Select(p => p.ToArray()).ToList();
        if (inside.Count == 0) return 0;
        var d = inside[0].Length;
        var front = Front(inside).Select(i => inside[i]).ToList();
        return Volume(front, d);
    }

    private static double Volume(List<double[]> points, int d)
    {
        if (points.Count == 0) return 0;
        if (d == 1) return 1 - points.Min(p => p[0]);
        var sorted = points.OrderBy(p => p[d - 1]).ToList();
        var volume = 0.0;
        for (var i = 0; i < sorted.Count; i++)
        {
            var top = i + 1 < sorted.Count ? sorted[i + 1][d - 1] : 1;
            var height = top - sorted[i][d - 1];
            if (height <= 0) continue;
            volume += height * Volume(sorted.Take(i + 1).ToList(), d - 1);
        }
        return volume;
    }
}
