using System.Globalization;

namespace NasActors.Hosting;

/// <summary>
/// This process's memory as Linux counts it (<c>/proc/self/status</c>). The resident set also holds
/// the pages of mapped files, libtorch's code above all (about 150 MB for a coordinator): the
/// kernel can drop those at any time. The anonymous part is what the process itself allocated,
/// where a leak shows.
/// </summary>
public static class ProcessMemory
{
    /// <summary>A field of /proc/self/status in bytes (RssAnon, VmHWM, ...); null where there is none.</summary>
    public static long? Status(string field)
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status)) return null;
        var prefix = field + ":";
        var line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
        return line is not null && long.TryParse(line[prefix.Length..].Trim().Split(' ')[0], NumberStyles.None, CultureInfo.InvariantCulture, out var kb) ? kb * 1024 : null;
    }
}
