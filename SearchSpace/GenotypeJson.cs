using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace NasActors.SearchSpace;

/// <summary>A genotype file that cannot be read; <see cref="Path"/> is the JSON path of the problem.</summary>
public sealed class GenotypeFormatException(string path, string problem)
    : Exception($"{path}: {problem}")
{
    public string Path { get; } = path;
}

/// <summary>
/// The JSON genotype format: <c>{"normal": {"blocks": [{"inputs": [a, b], "ops": [x, y],
/// "combine": "add"}, ...], "output": [...]}, "reduction": {...}}</c>, output optional.
/// Reading is strict: unknown fields, wrong types and trailing content are errors naming the path.
/// </summary>
public static class GenotypeJson
{
    private static readonly JsonDocumentOptions Strict = new()
    {
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
        MaxDepth = 16,
    };

    /// <summary>One line per block when <paramref name="indented"/>, a single line otherwise.</summary>
    public static string Write(Genotype genotype, bool indented = true)
    {
        var nl = indented ? "\n" : "";
        string Pad(int depth) => indented ? new string(' ', 2 * depth) : "";
        var sb = new StringBuilder();
        sb.Append('{').Append(nl);
        AppendCell(sb, "normal", genotype.Normal, nl, Pad);
        sb.Append(',').Append(indented ? nl : " ");
        AppendCell(sb, "reduction", genotype.Reduction, nl, Pad);
        sb.Append(nl).Append('}');
        return sb.ToString();
    }

    private static void AppendCell(StringBuilder sb, string name, Cell cell, string nl, Func<int, string> pad)
    {
        sb.Append(pad(1)).Append('"').Append(name).Append("\": {").Append(nl);
        sb.Append(pad(2)).Append("\"blocks\": [").Append(nl);
        for (var k = 0; k < cell.Blocks.Count; k++)
        {
            var b = cell.Blocks[k];
            sb.Append(pad(3))
              .Append($"{{\"inputs\": [{b.InputA}, {b.InputB}], \"ops\": [\"{b.OpA.Name()}\", \"{b.OpB.Name()}\"], \"combine\": \"{b.Combine.Name()}\"}}")
              .Append(k + 1 < cell.Blocks.Count ? "," + (nl.Length > 0 ? nl : " ") : nl);
        }
        sb.Append(pad(2)).Append(']');
        if (cell.ExplicitOutput is { } output)
            sb.Append(',').Append(nl.Length > 0 ? nl : " ").Append(pad(2)).Append("\"output\": [").Append(string.Join(", ", output)).Append(']');
        sb.Append(nl).Append(pad(1)).Append('}');
    }

    /// <summary>Parses a genotype (structure only; call <see cref="GenotypeValidator"/> for the rules).</summary>
    public static Genotype Read(string json)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, Strict);
        }
        catch (JsonException e)
        {
            throw new GenotypeFormatException("$", $"not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}): {FirstSentence(e.Message)}");
        }
        using (doc)
        {
            var root = Object(doc.RootElement, "$", ["normal", "reduction"]);
            return new Genotype(
                ReadCell(Required(root, "normal", "$"), "$.normal"),
                ReadCell(Required(root, "reduction", "$"), "$.reduction"));
        }
    }

    /// <summary>Reads and validates: the form a user-supplied genotype goes through.</summary>
    public static Genotype ReadValid(string json) => Read(json).Validated();

    private static Cell ReadCell(JsonElement e, string path)
    {
        var cell = Object(e, path, ["blocks", "output"]);
        var blocksElement = Required(cell, "blocks", path);
        var blocks = Array(blocksElement, $"{path}.blocks")
            .Select((b, k) => ReadBlock(b, $"{path}.blocks[{k}]"))
            .ToList();
        List<int>? output = null;
        if (cell.TryGetValue("output", out var o) && o.ValueKind != JsonValueKind.Null)
            output = Array(o, $"{path}.output").Select((x, i) => Int(x, $"{path}.output[{i}]")).ToList();
        return new Cell(blocks, output);
    }

    private static Block ReadBlock(JsonElement e, string path)
    {
        var block = Object(e, path, ["inputs", "ops", "combine"]);
        var inputs = Pair(Required(block, "inputs", path), $"{path}.inputs", Int);
        var ops = Pair(Required(block, "ops", path), $"{path}.ops", OpOf);
        var combinePath = $"{path}.combine";
        var combineName = String(Required(block, "combine", path), combinePath);
        if (!OpNames.TryParseCombine(combineName, out var combine))
            throw new GenotypeFormatException(combinePath, $"unknown combine \"{combineName}\" (expected \"add\" or \"concat\")");
        return new Block(inputs[0], inputs[1], ops[0], ops[1], combine);
    }

    private static Op OpOf(JsonElement e, string path)
    {
        var name = String(e, path);
        return OpNames.TryParse(name, out var op)
            ? op
            : throw new GenotypeFormatException(path, $"unknown op \"{name}\" (known: {string.Join(", ", OpNames.AllNames)})");
    }

    private static T[] Pair<T>(JsonElement e, string path, Func<JsonElement, string, T> item)
    {
        var items = Array(e, path);
        if (items.Count != 2)
            throw new GenotypeFormatException(path, $"expected exactly 2 items, got {items.Count}");
        return [item(items[0], $"{path}[0]"), item(items[1], $"{path}[1]")];
    }

    private static Dictionary<string, JsonElement> Object(JsonElement e, string path, string[] allowed)
    {
        if (e.ValueKind != JsonValueKind.Object)
            throw new GenotypeFormatException(path, $"expected an object, got {Describe(e)}");
        var fields = new Dictionary<string, JsonElement>();
        foreach (var p in e.EnumerateObject())
        {
            if (!allowed.Contains(p.Name))
                throw new GenotypeFormatException($"{path}.{p.Name}", $"unknown field (allowed: {string.Join(", ", allowed)})");
            if (!fields.TryAdd(p.Name, p.Value))
                throw new GenotypeFormatException($"{path}.{p.Name}", "field appears twice");
        }
        return fields;
    }

    private static JsonElement Required(Dictionary<string, JsonElement> fields, string name, string path) =>
        fields.TryGetValue(name, out var v) ? v : throw new GenotypeFormatException($"{path}.{name}", "required field is missing");

    private static List<JsonElement> Array(JsonElement e, string path) =>
        e.ValueKind == JsonValueKind.Array
            ? e.EnumerateArray().ToList()
            : throw new GenotypeFormatException(path, $"expected an array, got {Describe(e)}");

    private static int Int(JsonElement e, string path) =>
        e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var v)
            ? v
            : throw new GenotypeFormatException(path, $"expected an integer, got {Describe(e)}");

    private static string String(JsonElement e, string path) =>
        e.ValueKind == JsonValueKind.String
            ? e.GetString()!
            : throw new GenotypeFormatException(path, $"expected a string, got {Describe(e)}");

    private static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Number => $"the number {e.GetRawText()}",
        JsonValueKind.String => $"the string {e.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => e.GetRawText(),
        JsonValueKind.Null => "null",
        JsonValueKind.Array => "an array",
        _ => "an object",
    };

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}

/// <summary>Lets genotypes travel inside other JSON documents (messages, events) in the same format.</summary>
public sealed class GenotypeJsonConverter : JsonConverter<Genotype>
{
    public override Genotype Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var doc = JsonDocument.ParseValue(ref reader);
        return GenotypeJson.Read(doc.RootElement.GetRawText());
    }

    public override void Write(Utf8JsonWriter writer, Genotype value, JsonSerializerOptions options) =>
        writer.WriteRawValue(GenotypeJson.Write(value, indented: false));
}
