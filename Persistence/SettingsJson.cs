using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using NasActors.Protocol;
using NasActors.Search;

namespace NasActors.Persistence;

/// <summary>
/// A run's settings as JSON, wherever they are kept (run.json in a folder, nas_run in a database,
/// a <c>--config</c> file): snake_case keys, read strictly: an unknown key or a wrong type is an
/// error naming it. A key left out takes the embedded default, inside <c>search</c> and
/// <c>final</c> too (<c>{"search": {"epochs": 27}}</c> changes one number); what is stored is
/// always complete.
/// </summary>
public static partial class SettingsJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        WriteIndented = true,
    };

    /// <summary>
    /// A settings file (<c>--config</c>); a problem names the file and the key. Keys it leaves out
    /// take <paramref name="over"/>'s values (null: a new search's, <see cref="SearchSettings.NewSearch"/>).
    /// </summary>
    public static SearchSettings Read(string file, SearchSettings? over) =>
        Parse(ReadText(file), file, over ?? SearchSettings.NewSearch, blocksFromSpace: over is null);

    private static string ReadText(string file)
    {
        if (string.IsNullOrWhiteSpace(file)) throw new InputException(RunInputs.Config, "give a settings file");
        if (Directory.Exists(file)) throw new IOException($"cannot read {file}: it is a folder, not a settings file");
        try
        {
            return File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot read {file}: {e.Message}", e);
        }
    }

    /// <summary>A stored run's settings (run.json, nas_run): keys written before they existed take the values that meant what the run did.</summary>
    public static SearchSettings ReadStored(string file) => Parse(ReadText(file), file);

    /// <summary>
    /// Settings from their JSON text, the keys given over <paramref name="over"/> (null: the
    /// record's own defaults, what a stored key left out means); a problem names <paramref name="where"/>
    /// they come from. <paramref name="blocksFromSpace"/>: B left out is the space's own.
    /// </summary>
    public static SearchSettings Parse(string text, string where, SearchSettings? over = null, bool blocksFromSpace = true)
    {
        JsonNode? given;
        try
        {
            given = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions
            {
                AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow, AllowDuplicateProperties = false,
            });
        }
        catch (JsonException e)
        {
            throw new InvalidRunException($"{where}: {Problem(e)}{(e.LineNumber is { } line ? $" (line {line + 1})" : "")}");
        }
        if (given is null) throw new InvalidRunException($"{where}: empty settings");
        if (given is not JsonObject)
            throw new InvalidRunException($"{where}: $: expected an object");
        try
        {
            var merged = JsonSerializer.SerializeToNode(over ?? new SearchSettings(), Options)!.AsObject();
            // B left out is the space's own, not the default space's.
            if (blocksFromSpace && !given.AsObject().ContainsKey("blocks")) merged.Remove("blocks");
            Merge(merged, given.AsObject(), typeof(SearchSettings), "$", where);
            return merged.Deserialize<SearchSettings>(Options) ?? throw new InvalidRunException($"{where}: empty settings");
        }
        catch (JsonException e)
        {
            throw new InvalidRunException($"{where}: {Problem(e)}");
        }
    }

    /// <summary>
    /// The given keys over the defaults: objects key by key, anything else replaced whole. A null
    /// where the default holds a value is refused here, saying what the key takes (the serializer
    /// would speak of nullability annotations).
    /// </summary>
    private static void Merge(JsonObject defaults, JsonObject given, Type type, string path, string where)
    {
        foreach (var (key, value) in given.ToList())
        {
            var property = type.GetProperties().FirstOrDefault(p => JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name) == key);
            // A key whose null means something (train_limit: all) takes it; any other is refused, saying what it takes.
            if (value is null && defaults[key] is { } kept && (property is null || new NullabilityInfoContext().Create(property).ReadState != NullabilityState.Nullable))
                throw new InvalidRunException($"{where}: {path}.{key}: expected {What(kept)}, got null");
            if (value is JsonObject inner && defaults[key] is JsonObject innerDefaults && property is not null)
                Merge(innerDefaults, inner, property.PropertyType, $"{path}.{key}", where);
            else
                defaults[key] = value?.DeepClone();
        }
    }

    private static string What(JsonNode node) => node.GetValueKind() switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        JsonValueKind.String => "a string",
        JsonValueKind.True or JsonValueKind.False => "true or false",
        JsonValueKind.Number => "a number",
        _ => "a value",
    };

    /// <summary>System.Text.Json's complaint in the settings file's own words: the key, and what it takes; no .NET type names.</summary>
    private static string Problem(JsonException e)
    {
        var path = e.Path ?? "$";
        var message = e.Message.Split(" Path:")[0].Split(" LineNumber")[0].TrimEnd('.', ' ');
        if (message.Contains("could not be mapped to any .NET member", StringComparison.Ordinal))
            return $"unknown key {path}";
        if (DuplicateKey().Match(message) is { Success: true } duplicate)
            return $"the key \"{duplicate.Groups[1].Value}\" is given twice (in {path})";
        if (TypeName().Match(message) is { Success: true } converted && message.Contains("could not be converted", StringComparison.Ordinal))
            return $"{path}: expected {Kind(converted.Value)}";
        if (message.Contains("missing required properties", StringComparison.Ordinal))
            return $"{path}: missing keys {message[(message.IndexOf("including:", StringComparison.Ordinal) + 10)..].Trim()}";
        return $"{path}: {TypeName().Replace(message, "a value")}";
    }

    private static string Kind(string type) => type switch
    {
        _ when type.Contains("Int32", StringComparison.Ordinal) || type.Contains("Int64", StringComparison.Ordinal) => "a whole number",
        _ when type.Contains("Double", StringComparison.Ordinal) => "a number",
        _ when type.Contains("Boolean", StringComparison.Ordinal) => "true or false",
        _ when type.Contains("String", StringComparison.Ordinal) && !type.Contains("List", StringComparison.Ordinal) => "a string",
        _ when type.Contains("List", StringComparison.Ordinal) || type.EndsWith("[]", StringComparison.Ordinal) => "a list",
        _ => "an object",
    };

    [System.Text.RegularExpressions.GeneratedRegex("Duplicate property '([^']*)'")]
    private static partial System.Text.RegularExpressions.Regex DuplicateKey();

    [System.Text.RegularExpressions.GeneratedRegex(@"(System|NasActors)\.[\w.`\[\], ]+")]
    private static partial System.Text.RegularExpressions.Regex TypeName();
}
