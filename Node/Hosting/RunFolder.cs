using System.Text.Json;
using System.Text.Json.Serialization;
using NasActors.Persistence;

namespace NasActors.Node.Hosting;

/// <summary>A folder that is not a usable nas run (foreign, corrupt); the message says why.</summary>
public sealed class RunFolderException(string message) : Exception(message);

/// <summary>
/// One search per folder: run.json (its settings, written first), journal.db, snapshots.db and
/// node.log. Settings files are read strictly: an unknown key or a wrong type is an error naming it.
/// </summary>
public static class RunFolder
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
    public static SearchSettings? Existing(string dir)
    {
        if (!Directory.Exists(dir) || !Directory.EnumerateFileSystemEntries(dir).Any(e => Path.GetFileName(e) != RunLock.FileName)) return null;
        var file = Path.Combine(dir, SettingsFile);
        if (!File.Exists(file))
            throw new RunFolderException($"{dir} is not a nas run folder (no {SettingsFile}); choose an empty or new folder");
        return ReadSettings(file);
    }

    public static SearchSettings Require(string dir) =>
        Existing(dir) ?? throw new RunFolderException($"{dir} holds no nas run");

    public static SearchSettings ReadSettings(string file)
    {
        string text;
        try
        {
            text = File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot read {file}: {e.Message}", e);
        }
        try
        {
            return JsonSerializer.Deserialize<SearchSettings>(text, Json) ?? throw new RunFolderException($"{file}: empty settings");
        }
        catch (JsonException e)
        {
            throw new RunFolderException($"{file}: {e.Message.Split(" LineNumber")[0].TrimEnd('.')} (at {e.Path}, line {e.LineNumber + 1})");
        }
    }

    public static void WriteSettings(string dir, SearchSettings settings)
    {
        Directory.CreateDirectory(dir);
        var file = Path.Combine(dir, SettingsFile);
        File.WriteAllText(file + ".tmp", JsonSerializer.Serialize(settings, Json) + "\n");
        File.Move(file + ".tmp", file, overwrite: true);
    }
}
