using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace NasActors.Reports;

/// <summary>
/// The report page: one HTML file with its styles, ECharts and the script inline, so it opens
/// offline. The static report embeds the model; the live dashboard serves the page with no model
/// and pushes it as server-sent events.
/// </summary>
public static class ReportPage
{
    /// <summary>camelCase for the page's script; the default encoder escapes &lt; so no value can close the script element.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private static readonly Lazy<string> Template = new(() =>
        Resource("report.html")
            .Replace("{{CSS}}", Resource("report.css"), StringComparison.Ordinal)
            .Replace("{{ECHARTS}}", Resource("echarts.js"), StringComparison.Ordinal)
            .Replace("{{SCRIPT}}", Resource("report.js"), StringComparison.Ordinal));

    public static string Render(ReportModel model) => Page(Title(model.Runs.Select(r => r.Name).ToList()), JsonSerializer.Serialize(model, Json));

    /// <summary>The dashboard's page: it waits for the model on <c>api/events</c>.</summary>
    public static string Live(string title) => Page(title, "null");

    public static string Title(IReadOnlyList<string> runs) => "NasActors: " + string.Join(" vs ", runs);

    private static string Page(string title, string modelJson)
    {
        // The model goes last: nothing inside it is read as a placeholder.
        var encodedTitle = System.Net.WebUtility.HtmlEncode(title);
        return Template.Value.Replace("{{TITLE}}", encodedTitle, StringComparison.Ordinal).Replace("{{MODEL}}", modelJson, StringComparison.Ordinal);
    }

    private static string Resource(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"report asset {name} is missing from the build");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
