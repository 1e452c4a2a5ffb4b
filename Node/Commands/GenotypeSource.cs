using NasActors.SearchSpace;

namespace NasActors.Node.Commands;

/// <summary>Resolves a <c>--genotype</c> value: a built-in name or a JSON file.</summary>
public static class GenotypeSource
{
    public const string Help = "nasnet-a, or a genotype JSON file";

    /// <summary>Loads and validates; throws <see cref="IOException"/> for an unreadable file.</summary>
    public static Genotype Load(string spec) =>
        spec.Equals("nasnet-a", StringComparison.OrdinalIgnoreCase)
            ? NasNetA.Genotype
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

    /// <summary>Runs <paramref name="action"/> mapping genotype problems to exit codes with a message.</summary>
    public static int Guard(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (IOException e)
        {
            return ExitCodes.Fail(ExitCodes.Unreadable, e.Message);
        }
        catch (GenotypeFormatException e)
        {
            return ExitCodes.Fail(ExitCodes.Invalid, $"invalid genotype: {e.Message}");
        }
        catch (InvalidGenotypeException e)
        {
            return ExitCodes.Fail(ExitCodes.Invalid, $"invalid genotype: {string.Join("; ", e.Errors)}");
        }
    }
}
