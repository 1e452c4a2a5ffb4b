using System.Text.Json;
using System.Text.Json.Serialization;

namespace NasActors.SearchSpace;

/// <summary>
/// How many normal cells each of the network's three stages stacks (a reduction cell between
/// stages): one number N means N-R-N-R-N, as in NASNet; three give each stage its own count, as
/// PNASNet's 4-R-3-R-3. JSON keeps one number as a number, so stored runs read as before.
/// </summary>
[JsonConverter(typeof(CellCountsJsonConverter))]
public sealed class CellCounts : IEquatable<CellCounts>
{
    public const int Stages = 3;

    /// <summary>Published networks stack at most 6 per stage; a hundred is past any network that trains.</summary>
    public const int MaxPerStage = 100;

    private readonly int[] perStage;

    public CellCounts(params int[] counts)
    {
        if (counts.Length is not (1 or Stages))
            throw new ArgumentException($"give one number N or {Stages} numbers (one per stage), got {counts.Length}");
        if (counts.Any(c => c < 1))
            throw new ArgumentException($"every count must be at least 1, got {string.Join(",", counts)}");
        if (counts.Any(c => c > MaxPerStage))
            throw new ArgumentException($"at most {MaxPerStage} normal cells per stage, got {string.Join(",", counts)}");
        perStage = counts.Length == 1 ? [counts[0], counts[0], counts[0]] : [.. counts];
    }

    /// <summary>The normal cells of stage <paramref name="stage"/> (0, 1 or 2).</summary>
    public int this[int stage] => perStage[stage];

    public bool Uniform => perStage.All(c => c == perStage[0]);

    public int Total => perStage.Sum();

    public static implicit operator CellCounts(int n) => new(n);

    /// <summary>"6" or "4,3,3"; a problem is an <see cref="ArgumentException"/> saying what is wrong.</summary>
    public static CellCounts Parse(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var counts = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out counts[i]))
                throw new ArgumentException($"'{text}' is not one number N or {Stages} comma-separated numbers like 4,3,3");
        }
        return new CellCounts(counts);
    }

    /// <summary>"6" when every stage has the same count, else "4,3,3".</summary>
    public override string ToString() => Uniform ? $"{perStage[0]}" : string.Join(",", perStage);

    /// <summary>The layout: 4-R-3-R-3.</summary>
    public string Layout => string.Join("-R-", perStage);

    public bool Equals(CellCounts? other) => other is not null && perStage.SequenceEqual(other.perStage);

    public override bool Equals(object? obj) => Equals(obj as CellCounts);

    public override int GetHashCode() => HashCode.Combine(perStage[0], perStage[1], perStage[2]);
}

/// <summary>A number, or a list of three numbers; written as a number when every stage is the same.</summary>
public sealed class CellCountsJsonConverter : JsonConverter<CellCounts>
{
    public override CellCounts Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        try
        {
            if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var n)) return new CellCounts(n);
            if (reader.TokenType == JsonTokenType.StartArray)
            {
                var counts = new List<int>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out var c))
                        throw new JsonException($"expected whole numbers, got {Given(ref reader)}");
                    counts.Add(c);
                }
                return new CellCounts([.. counts]);
            }
        }
        catch (ArgumentException e)
        {
            throw new JsonException(e.Message);
        }
        throw new JsonException($"expected a whole number or a list of {CellCounts.Stages} whole numbers, got {Given(ref reader)}");
    }

    /// <summary>The value as the file has it (1.5, "four", null), not the reader's token name.</summary>
    private static string Given(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.Number => System.Text.Encoding.UTF8.GetString(reader.ValueSpan),
        JsonTokenType.String => $"\"{reader.GetString()}\"",
        JsonTokenType.True => "true",
        JsonTokenType.False => "false",
        JsonTokenType.Null => "null",
        JsonTokenType.StartObject => "an object",
        _ => reader.TokenType.ToString().ToLowerInvariant(),
    };

    public override void Write(Utf8JsonWriter writer, CellCounts value, JsonSerializerOptions options)
    {
        if (value.Uniform)
        {
            writer.WriteNumberValue(value[0]);
            return;
        }
        writer.WriteStartArray();
        for (var s = 0; s < CellCounts.Stages; s++) writer.WriteNumberValue(value[s]);
        writer.WriteEndArray();
    }
}
