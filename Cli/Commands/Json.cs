using System.Text.Json;

namespace NasActors.Cli.Commands;

/// <summary>The one JSON style of command output: snake_case keys.</summary>
public static class Json
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        // Genotype text uses '+'; output is for terminals and files, not HTML.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
