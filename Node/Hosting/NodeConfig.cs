using Akka.Configuration;
using NasActors.Persistence;

namespace NasActors.Node.Hosting;

/// <summary>The node's HOCON: cluster.hocon (embedded), the run folder's journal, and per-run settings.</summary>
public static class NodeConfig
{
    public static Config ClusterHocon()
    {
        using var stream = typeof(NodeConfig).Assembly.GetManifestResourceStream("cluster.hocon")
            ?? throw new InvalidOperationException("cluster.hocon is not embedded in nas");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    }

    /// <summary>A cluster node writing the run folder's journal.</summary>
    public static Config Node(string runDirectory) =>
        ConfigurationFactory.ParseString($"nas.log-file = \"{Escape(Path.Combine(Path.GetFullPath(runDirectory), "node.log"))}\"")
            .WithFallback(ClusterHocon())
            .WithFallback(PersistenceConfig.Sqlite(runDirectory));

    /// <summary>A local, non-cluster system that only reads a run's journal (status, top, export).</summary>
    public static Config Reader(string runDirectory) =>
        ConfigurationFactory.ParseString("akka.actor.provider = local\nakka.loglevel = ERROR")
            .WithFallback(ClusterHocon())
            .WithFallback(PersistenceConfig.Sqlite(runDirectory));

    private static string Escape(string s) => s.Replace("\\", "\\\\").Replace("\"", "\\\"");
}
