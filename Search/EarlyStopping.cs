using System.Collections.Immutable;
using System.Text.Json.Serialization;

namespace NasActors.Search;

/// <summary>
/// Asynchronous successive halving, stop variant (Li et al., MLSys 2020): a child reports its
/// validation accuracy at each rung (<see cref="GraceEpochs"/> · η^k epochs, below its budget)
/// and goes on only while it is in the top 1/η of every value recorded at that rung so far.
/// With <see cref="Brackets"/> &gt; 1, bracket s starts its rungs at grace · η^s (Hyperband's
/// brackets, asynchronous); each child's bracket follows from the run's seed and its id.
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
        if (Kind != AshaKind) errors.Add($"unknown early stopping \"{Kind}\" (expected {AshaKind})");
        if (GraceEpochs < 1) errors.Add($"early stopping's grace epochs must be at least 1, got {GraceEpochs}");
        if (ReductionFactor < 2) errors.Add($"early stopping's reduction factor must be at least 2, got {ReductionFactor}");
        if (Brackets < 1) errors.Add($"early stopping's brackets must be at least 1, got {Brackets}");
        if (StoppedChildren is not (RungAccuracy or Ignore))
            errors.Add($"early stopping's stopped_children must be {RungAccuracy} or {Ignore}, got \"{StoppedChildren}\"");
        if (errors.Count > 0) return errors;
        if (GraceEpochs >= epochs)
            errors.Add($"early stopping's grace epochs ({GraceEpochs}) must be below the children's epochs ({epochs}): there would be no rung to stop at");
        else if (Rungs(Brackets - 1, epochs).Count == 0)
            errors.Add($"bracket {Brackets - 1} has no rung below {epochs} epochs (rungs start at {GraceEpochs}·{ReductionFactor}^bracket): use at most {Rungs(0, epochs).Count} brackets");
        return errors;
    }

    /// <summary>The rung epochs of <paramref name="bracket"/>, below <paramref name="epochs"/>, in order.</summary>
    public IReadOnlyList<int> Rungs(int bracket, int epochs)
    {
        var rungs = new List<int>();
        for (var r = GraceEpochs * Math.Pow(ReductionFactor, bracket); r < epochs; r *= ReductionFactor) rungs.Add((int)r);
        return rungs;
    }

    /// <summary>The bracket of child <paramref name="childId"/>: fixed by the run's seed and the child, on every coordinator alike.</summary>
    public int Bracket(long seed, long childId)
    {
        if (Brackets == 1) return 0;
        // SplitMix64 of (seed, child): an even, stable spread over the brackets.
        var z = (ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)childId + 0x632BE59BD9B4E019UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (int)((z ^ (z >> 31)) % (ulong)Brackets);
    }

    /// <summary>
    /// Whether a child with <paramref name="value"/> at a rung goes on, given the values recorded
    /// there before it: while the rung (with it) holds fewer than η values, yes; then only if fewer
    /// than ⌊n/η⌋ of the n values are better (ties go on).
    /// </summary>
    public bool Continues(IReadOnlyCollection<double> recorded, double value)
    {
        var n = recorded.Count + 1;
        if (n < ReductionFactor) return true;
        return recorded.Count(v => v > value) < n / ReductionFactor;
    }

    /// <summary>The value the next child at a rung must reach to go on (the ⌊(n+1)/η⌋-th best recorded), or null while every child goes on.</summary>
    public double? Cut(IReadOnlyCollection<double> recorded)
    {
        var k = (recorded.Count + 1) / ReductionFactor;
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

/// <summary>What a child reported at a rung, and whether it was stopped there.</summary>
public sealed record RungResult(int Epoch, double Accuracy, bool Stopped);

/// <summary>
/// Every value recorded per rung (derived from the children's <see cref="RungResult"/>s, kept as
/// events arrive so that a decision costs one pass over its rung). Values are a multiset, kept in
/// ascending order: the order they arrived in never changes a decision, nor the tables.
/// </summary>
public sealed record RungTables(ImmutableSortedDictionary<RungKey, ImmutableList<double>> Values)
{
    public static readonly RungTables Empty = new(ImmutableSortedDictionary<RungKey, ImmutableList<double>>.Empty);

    public IReadOnlyCollection<double> At(RungKey rung) => Values.TryGetValue(rung, out var v) ? v : [];

    public RungTables With(RungKey rung, double value)
    {
        var values = Values.TryGetValue(rung, out var v) ? v : [];
        var at = values.BinarySearch(value);
        return new(Values.SetItem(rung, values.Insert(at < 0 ? ~at : at, value)));
    }

    /// <summary>The tables of the children's results (a stored snapshot holds only those).</summary>
    public static RungTables Of(IEnumerable<ChildRecord> children, SearchSettings settings) =>
        children.Where(c => c.Rungs is not null)
            .SelectMany(c => c.Rungs!.Select(r => (Key: new RungKey(settings.EarlyStop!.Bracket(settings.Seed, c.Id), r.Epoch), r.Accuracy)))
            .Aggregate(Empty, (t, r) => t.With(r.Key, r.Accuracy));

    [JsonIgnore] public int Count => Values.Values.Sum(v => v.Count);
}
