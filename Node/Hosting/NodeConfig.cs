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
    public static Config Node(string runDirectory, ClusterSpec cluster) =>
        Cluster(cluster, $"nas.log-file = \"{Escape(Path.Combine(Path.GetFullPath(runDirectory), "node.log"))}\"")
            .WithFallback(PersistenceConfig.Sqlite(runDirectory));

    /// <summary>
    /// cluster.hocon with this node's address, roles and seeds over it, and the user's HOCON file
    /// (<c>--hocon</c>) over everything.
    /// </summary>
    public static Config Cluster(ClusterSpec cluster, string extra = "")
    {
        var node = ConfigurationFactory.ParseString($$"""
            akka.remote.dot-netty.tcp.hostname = "{{Escape(cluster.Host)}}"
            akka.remote.dot-netty.tcp.port = {{cluster.Port}}
            akka.cluster.roles = [{{string.Join(", ", cluster.Roles)}}]
            akka.cluster.seed-nodes = [{{string.Join(", ", cluster.SeedAddresses.Select(s => $"\"{Escape(s)}\""))}}]
            {{extra}}
            """);
        var user = cluster.HoconFile is { } file ? ConfigurationFactory.ParseString(File.ReadAllText(file)) : Config.Empty;
        return user.WithFallback(node).WithFallback(ClusterHocon());
    }

    private static string Escape(string s) => s.Replace("\\", "\\\\").Replace("\"", "\\\"");
}
