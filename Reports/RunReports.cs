using NasActors.Protocol;
using NasActors.Persistence;
using NasActors.SearchSpace;

namespace NasActors.Reports;

/// <summary>The report model of one or more runs, read from their stores (nas report, the dashboard, nas workers).</summary>
public static class RunReports
{
    /// <summary>The model of the runs in <paramref name="stores"/>, each from its whole journal.</summary>
    public static ReportModel Load(IReadOnlyList<RunStore> stores, int top, DateTimeOffset now)
    {
        var names = Names(stores);
        return new ReportModel(stores.Select((r, i) => RunReportBuilder.Build(names[i], r.ReadJournal(), now, top, writing: r.WriterAlive(), journal: r.JournalName)).ToList(),
            now, false, OpNames.AllNames);
    }

    /// <summary>Each run is named by its title (folder or run name), or in full where two share one; a run given twice is refused.</summary>
    public static IReadOnlyList<string> Names(IReadOnlyList<RunStore> stores)
    {
        if (stores.GroupBy(r => r.Key).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new InputException(RunInputs.Run, $"{twice.Key} is given twice");
        var titles = stores.Select(r => r.Title).ToList();
        return titles.Select((t, i) => titles.Count(u => u == t) > 1 ? stores[i].Name : t).ToList();
    }
}
