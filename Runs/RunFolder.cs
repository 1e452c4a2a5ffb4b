using System.Text.Json;
using System.Text.Json.Serialization;
using NasActors.Protocol;
using NasActors.Search;

namespace NasActors.Runs;

/// <summary>What was named is not a usable nas run: a foreign folder, no such run, settings that are corrupt or unknown; the message says why.</summary>
public sealed class InvalidRunException(string message) : Exception(message);

/// <summary>
/// One search per folder: run.json (its settings, written first), journal.db, snapshots.db and
/// node.log. Settings files are read strictly: an unknown key or a wrong type is an error naming it.
/// </summary>
public static partial class RunFolder
{
    public const string SettingsFile = "run.json";

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        WriteIndented = true,
    };

    /// <summary>The settings of the run in <paramref name="dir"/>; null for a missing or empty folder.</summary>
    public static SearchSettings? Existing(string dir, bool forWriting = true)
    {
        if (!Directory.Exists(dir) || !Directory.EnumerateFileSystemEntries(dir).Any(e => Path.GetFileName(e) != RunLock.FileName)) return null;
        var file = Path.Combine(dir, SettingsFile);
        if (!File.Exists(file))
            throw new InvalidRunException($"{dir} is not a nas run folder (no {SettingsFile}){(forWriting ? "; choose an empty or new folder" : "")}");
        return ReadSettings(file);
    }

    public static SearchSettings Require(string dir) =>
        Existing(dir, forWriting: false) ?? throw new InvalidRunException($"{dir} holds no nas run");

    public static SearchSettings ReadSettings(string file)
    {
        if (string.IsNullOrWhiteSpace(file)) throw new InputException(UserInput.Config, "give a settings file");
        if (Directory.Exists(file)) throw new IOException($"cannot read {file}: it is a folder, not a settings file");
        string text;
        try
        {
            text = File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot read {file}: {e.Message}", e);
        }
        return ParseSettings(text, file);
    }

    /// <summary>Settings from their JSON text; a problem names <paramref name="where"/> they come from.</summary>
    public static SearchSettings ParseSettings(string text, string where)
    {
        try
        {
            return JsonSerializer.Deserialize<SearchSettings>(text, Json) ?? throw new InvalidRunException($"{where}: empty settings");
        }
        catch (JsonException e)
        {
            throw new InvalidRunException($"{where}: {Problem(e)} (line {e.LineNumber + 1})");
        }
    }

    /// <summary>System.Text.Json's complaint in the settings file's own words: the key, and what it takes; no .NET type names.</summary>
    private static string Problem(JsonException e)
    {
        var path = e.Path ?? "$";
        var message = e.Message.Split(" Path:")[0].Split(" LineNumber")[0].TrimEnd('.', ' ');
        if (message.Contains("could not be mapped to any .NET member", StringComparison.Ordinal))
            return $"unknown key {path}";
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

    [System.Text.RegularExpressions.GeneratedRegex(@"(System|NasActors)\.[\w.`\[\], ]+")]
    private static partial System.Text.RegularExpressions.Regex TypeName();

    public static void WriteSettings(string dir, SearchSettings settings)
    {
        Directory.CreateDirectory(dir);
        var file = Path.Combine(dir, SettingsFile);
        File.WriteAllText(file + ".tmp", JsonSerializer.Serialize(settings, Json) + "\n");
        File.Move(file + ".tmp", file, overwrite: true);
    }
}
