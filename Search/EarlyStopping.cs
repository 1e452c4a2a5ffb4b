using System.Collections.Immutable;
using System.Text.Json.Serialization;

namespace NasActors.Search;

/// <summary>
/// A run's early stopping as configured: which rule (<see cref="Kind"/>, a name in
/// <see cref="StoppingRules"/>) and its parameters. The rule itself is <see cref="AshaRule"/>.
/// </summary>
public sealed record EarlyStopSettings
{
    public const string AshaKind = "asha";

    public string Kind { get; init; } = AshaKind;
    public int GraceEpochs { get; init; } = 1;
    public int ReductionFactor { get; init; } = 3;
    public int Brackets { get; init; } = 1;

    public const string RungAccuracy = "rung-accuracy";
    public const string Ignore = "ignore";

    /// <summary>
    /// What the strategy learns from a stopped child: <see cref="RungAccuracy"/> (it counts with its
    /// value at the rung; chosen by measurement, docs/decisions.md) or <see cref="Ignore"/>. Stored
    /// with the run, so a resumed search learns as it did whatever the default becomes.
    /// </summary>
    public string StoppedChildren { get; init; } = RungAccuracy;

    /// <param name="epochs">The search children's epochs (rungs lie below them).</param>
    public IReadOnlyList<string> Errors(int epochs)
    {
        var errors = new List<string>();
        if (StoppedChildren is not (RungAccuracy or Ignore))
            errors.Add($"early stopping's stopped_children must be {RungAccuracy} or {Ignore}, got \"{StoppedChildren}\"");
        errors.AddRange(StoppingRules.Errors(this, epochs));
        return errors;
    }
}

/// <summary>
/// An early-stopping rule: where a child reports (its rungs) and the one question asked of it,
/// whether the child goes on from a rung given what was recorded there. The state records the
/// values and the decisions; a second rule is a new class here and a name in <see cref="StoppingRules"/>.
/// </summary>
public interface IStoppingRule
{
    /// <summary>The epochs, in order, at which a child's search training reports to the rule.</summary>
    IReadOnlyList<int> RungEpochs(long childId);

    /// <summary>The rung (the table of values) a child's report at <paramref name="epoch"/> belongs to.</summary>
    RungKey RungOf(long childId, int epoch);

    /// <summary>Continue or stop this child at this rung: <paramref name="value"/> against the values recorded there before it.</summary>
    bool Continues(IReadOnlyCollection<double> recorded, double value);

    /// <summary>The same question in a search of several objectives: the child's point (values to minimise) against the points recorded there.</summary>
    bool Continues(IReadOnlyList<IReadOnlyList<double>> recorded, IReadOnlyList<double> point);

    /// <summary>The value the next child at a rung must reach to go on, or null while every child goes on (for reports).</summary>
    double? Cut(IReadOnlyCollection<double> recorded);
}

/// <summary>The early-stopping rules by name: a run's settings name one.</summary>
public static class StoppingRules
{
    /// <summary>A rule: how it is made for a run, and what is wrong with its parameters for children of so many epochs.</summary>
    private sealed record Entry(Func<EarlyStopSettings, long, int, IStoppingRule> Create, Func<EarlyStopSettings, int, IReadOnlyList<string>> Errors);

    private static readonly Dictionary<string, Entry> Registry = new()
    {
        [EarlyStopSettings.AshaKind] = new((settings, seed, epochs) => new AshaRule(settings, seed, epochs), AshaRule.Errors),
    };

    public static IReadOnlyCollection<string> Kinds => Registry.Keys;

    /// <summary>What is wrong with early-stopping settings: an unknown rule, or its own parameters' errors.</summary>
    public static IReadOnlyList<string> Errors(EarlyStopSettings settings, int epochs) =>
        Registry.TryGetValue(settings.Kind, out var rule) ? rule.Errors(settings, epochs) : [$"unknown early stopping \"{settings.Kind}\" (expected {string.Join(", ", Kinds)})"];

    /// <summary>The rule of a run (null: it stops no child early).</summary>
    public static IStoppingRule? For(SearchSettings? settings) =>
        settings?.EarlyStop is { } stop ? Registry[stop.Kind].Create(stop, settings.Seed, settings.Search.Epochs) : null;
}

/// <summary>
/// Asynchronous successive halving, stop variant (Li et al., MLSys 2020): a child reports its
/// validation accuracy at each rung (grace · η^k epochs, below its budget of <paramref name="Epochs"/>)
/// and goes on only while it is in the top 1/η of every value recorded at that rung so far.
/// With more than one bracket, bracket s starts its rungs at grace · η^s (Hyperband's brackets,
/// asynchronous); each child's bracket follows from the run's seed and its id.
/// </summary>
public sealed record AshaRule(EarlyStopSettings Settings, long Seed, int Epochs) : IStoppingRule
{
    /// <summary>What is wrong with ASHA's parameters for children of <paramref name="epochs"/> epochs.</summary>
    public static IReadOnlyList<string> Errors(EarlyStopSettings s, int epochs)
    {
        var errors = new List<string>();
        if (s.GraceEpochs < 1) errors.Add($"early stopping's grace epochs must be at least 1, got {s.GraceEpochs}");
        if (s.ReductionFactor < 2) errors.Add($"early stopping's reduction factor must be at least 2, got {s.ReductionFactor}");
        if (s.Brackets < 1) errors.Add($"early stopping's brackets must be at least 1, got {s.Brackets}");
        if (errors.Count > 0) return errors;
        var rule = new AshaRule(s, 0, epochs);
        if (s.GraceEpochs >= epochs)
            errors.Add($"early stopping's grace epochs ({s.GraceEpochs}) must be below the children's epochs ({epochs}): there would be no rung to stop at");
        else if (rule.Rungs(s.Brackets - 1).Count == 0)
            errors.Add($"bracket {s.Brackets - 1} has no rung below {epochs} epochs (rungs start at {s.GraceEpochs}·{s.ReductionFactor}^bracket): use at most {rule.Rungs(0).Count} brackets");
        return errors;
    }

    public IReadOnlyList<int> RungEpochs(long childId) => Rungs(Bracket(childId));

    public RungKey RungOf(long childId, int epoch) => new(Bracket(childId), epoch);

    /// <summary>The rung epochs of <paramref name="bracket"/>, below the children's epochs, in order.</summary>
    public IReadOnlyList<int> Rungs(int bracket)
    {
        var rungs = new List<int>();
        for (var r = Settings.GraceEpochs * Math.Pow(Settings.ReductionFactor, bracket); r < Epochs; r *= Settings.ReductionFactor) rungs.Add((int)r);
        return rungs;
    }

    /// <summary>The bracket of child <paramref name="childId"/>: fixed by the run's seed and the child, on every coordinator alike.</summary>
    public int Bracket(long childId)
    {
        if (Settings.Brackets == 1) return 0;
        // SplitMix64 of (seed, child): an even, stable spread over the brackets.
        var z = (ulong)Seed * 0x9E3779B97F4A7C15UL + (ulong)childId + 0x632BE59BD9B4E019UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (int)((z ^ (z >> 31)) % (ulong)Settings.Brackets);
    }

    /// <summary>
    /// While the rung (with this value) holds fewer than η values, the child goes on; then only if
    /// fewer than ⌊n/η⌋ of the n values are better (ties go on).
    /// </summary>
    public bool Continues(IReadOnlyCollection<double> recorded, double value)
    {
        var n = recorded.Count + 1;
        if (n < Settings.ReductionFactor) return true;
        return recorded.Count(v => v > value) < n / Settings.ReductionFactor;
    }

    /// <summary>
    /// MOASHA's form of the same rule (Schmucker et al. 2021): the rung's n points are sorted into
    /// non-dominated fronts, and the child goes on while fewer than ⌊n/η⌋ of them lie in fronts
    /// before its own (a child in the same front goes on, as ties do). With accuracy alone it is the rule above.
    /// </summary>
    public bool Continues(IReadOnlyList<IReadOnlyList<double>> recorded, IReadOnlyList<double> point)
    {
        var n = recorded.Count + 1;
        if (n < Settings.ReductionFactor) return true;
        // Non-dominated: in the first front (one pass, the common case); else the rung is sorted.
        if (!recorded.Any(r => Pareto.Dominates(r, point))) return true;
        var fronts = Pareto.Fronts([.. recorded, point]);
        return fronts.Take(recorded.Count).Count(f => f < fronts[^1]) < n / Settings.ReductionFactor;
    }

    /// <summary>The ⌊(n+1)/η⌋-th best recorded value, or null while every child goes on.</summary>
    public double? Cut(IReadOnlyCollection<double> recorded)
    {
        var k = (recorded.Count + 1) / Settings.ReductionFactor;
        return k == 0 ? null : recorded.OrderDescending().ElementAt(k - 1);
    }
}

/// <summary>A rung by its bracket and epoch; as text (a JSON key) <c>BRACKET/EPOCH</c>.</summary>
[JsonConverter(typeof(RungKeyJsonConverter))]
public readonly record struct RungKey(int Bracket, int Epoch) : IComparable<RungKey>
{
    public int CompareTo(RungKey other) => Bracket != other.Bracket ? Bracket.CompareTo(other.Bracket) : Epoch.CompareTo(other.Epoch);

    public override string ToString() => $"{Bracket}/{Epoch}";

    public static RungKey Parse(string text) =>
        text.Split('/') is [var b, var e] && int.TryParse(b, out var bracket) && int.TryParse(e, out var epoch)
            ? new(bracket, epoch)
            : throw new System.Text.Json.JsonException($"not a rung (BRACKET/EPOCH): \"{text}\"");
}

internal sealed class RungKeyJsonConverter : JsonConverter<RungKey>
{
    public override RungKey Read(ref System.Text.Json.Utf8JsonReader reader, Type typeToConvert, System.Text.Json.JsonSerializerOptions options) => RungKey.Parse(reader.GetString()!);

    public override void Write(System.Text.Json.Utf8JsonWriter writer, RungKey value, System.Text.Json.JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());

    public override RungKey ReadAsPropertyName(ref System.Text.Json.Utf8JsonReader reader, Type typeToConvert, System.Text.Json.JsonSerializerOptions options) =>
        RungKey.Parse(reader.GetString()!);

    public override void WriteAsPropertyName(System.Text.Json.Utf8JsonWriter writer, RungKey value, System.Text.Json.JsonSerializerOptions options) =>
        writer.WritePropertyName(value.ToString());
}

/// <summary>What a child reported at a rung, and whether it was stopped there (after <see cref="EpochsTrained"/>, when its stop was decided from a later report).</summary>
public sealed record RungResult(int Epoch, double Accuracy, bool Stopped, int? EpochsTrained = null, Protocol.Messages.ChildCosts? Costs = null);

/// <summary>
/// Every value recorded per rung (derived from the children's <see cref="RungResult"/>s, kept as
/// events arrive so that a decision costs one pass over its rung). Values are a multiset, kept in
/// ascending order: the order they arrived in never changes a decision, nor the tables.
/// </summary>
public sealed record RungTables(ImmutableSortedDictionary<RungKey, ImmutableList<double>> Values)
{
    public static readonly RungTables Empty = new(ImmutableSortedDictionary<RungKey, ImmutableList<double>>.Empty);

    /// <summary>In a search of several objectives, the points recorded per rung (of the children whose costs were known), in child order.</summary>
    public ImmutableSortedDictionary<RungKey, ImmutableSortedDictionary<long, IReadOnlyList<double>>> Points { get; init; } =
        ImmutableSortedDictionary<RungKey, ImmutableSortedDictionary<long, IReadOnlyList<double>>>.Empty;

    public IReadOnlyCollection<double> At(RungKey rung) => Values.TryGetValue(rung, out var v) ? v : [];

    public IReadOnlyList<IReadOnlyList<double>> PointsAt(RungKey rung) => Points.TryGetValue(rung, out var p) ? [.. p.Values] : [];

    /// <param name="point">the child's point in a search of several objectives (null: none)</param>
    public RungTables With(RungKey rung, double value, long childId = 0, IReadOnlyList<double>? point = null)
    {
        var values = Values.TryGetValue(rung, out var v) ? v : [];
        var at = values.BinarySearch(value);
        var points = point is null ? Points
            : Points.SetItem(rung, (Points.TryGetValue(rung, out var p) ? p : ImmutableSortedDictionary<long, IReadOnlyList<double>>.Empty).SetItem(childId, point));
        return new(Values.SetItem(rung, values.Insert(at < 0 ? ~at : at, value))) { Points = points };
    }

    /// <summary>The tables of the children's results under <paramref name="rule"/> (a stored snapshot holds only those).</summary>
    public static RungTables Of(IEnumerable<ChildRecord> children, IStoppingRule rule, ObjectiveSet? objectives) =>
        children.Where(c => c.Rungs is not null)
            .SelectMany(c => c.Rungs!.Select(r => (Key: rule.RungOf(c.Id, r.Epoch), c.Id, r.Accuracy, Point: objectives?.RungPoint(r.Accuracy, r.Costs))))
            .Aggregate(Empty, (t, r) => t.With(r.Key, r.Accuracy, r.Id, r.Point));

    [JsonIgnore] public int Count => Values.Values.Sum(v => v.Count);
}
