using System.Text.Json;
using NasActors.Protocol;
using NasActors.Search;

namespace NasActors.Persistence;

/// <summary>
/// One search per folder: run.json (its settings, written first), journal.db, snapshots.db and
/// node.log. Settings files are read strictly: an unknown key or a wrong type is an error naming it.
/// </summary>
public static class RunFolder
{
    public const string SettingsFile = "run.json";

    /// <summary>The settings of the run in <paramref name="dir"/>; null for a missing or empty folder.</summary>
    public static SearchSettings? Existing(string dir, bool forWriting = true)
    {
        if (!Directory.Exists(dir) || !Directory.EnumerateFileSystemEntries(dir).Any(e => Path.GetFileName(e) != RunLock.FileName)) return null;
        var file = Path.Combine(dir, SettingsFile);
        if (!File.Exists(file))
            throw new InvalidRunException($"{dir} is not a nas run folder (no {SettingsFile}){(forWriting ? "; choose an empty or new folder" : "")}");
        return SettingsJson.ReadStored(file);
    }

    public static SearchSettings Require(string dir) =>
        Existing(dir, forWriting: false) ?? throw new InvalidRunException($"{dir} holds no nas run");

    public static void WriteSettings(string dir, SearchSettings settings)
    {
        Directory.CreateDirectory(dir);
        var file = Path.Combine(dir, SettingsFile);
        AtomicFile.WriteAllText(file, JsonSerializer.Serialize(settings, SettingsJson.Options) + "\n");
    }
}
