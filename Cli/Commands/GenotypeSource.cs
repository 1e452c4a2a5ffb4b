using NasActors.SearchSpace;

namespace NasActors.Cli.Commands;

/// <summary>Resolves a <c>--genotype</c> value: a built-in name or a JSON file.</summary>
public static class GenotypeSource
{
    public static readonly string Help = $"a published cell ({string.Join(", ", PublishedCells.ByName.Keys)}) or a genotype JSON file";

    /// <summary>Loads and validates; throws <see cref="IOException"/> for an unreadable file.</summary>
    public static Genotype Load(string spec) =>
        PublishedCells.ByName.TryGetValue(spec, out var published)
            ? published
            : GenotypeJson.ReadValid(ReadFile(spec));

    public static string ReadFile(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot read {path}: {e.Message}", e);
        }
    }
}
