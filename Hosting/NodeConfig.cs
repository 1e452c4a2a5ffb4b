using Akka.Configuration;
using NasActors.Protocol;
using NasActors.Persistence;

namespace NasActors.Hosting;

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

    /// <summary>A cluster node writing a run: a folder's log goes to its node.log, a database run's to stderr.</summary>
    public static Config Node(RunStore store, ClusterSpec cluster) =>
        Cluster(cluster, store.LogFile is { } log ? $"nas.log-file = \"{Escape(log)}\"" : "")
            .WithFallback(store.Persistence());

    /// <summary>
    /// Reads the settings a node needs from its final configuration (the user's HOCON included)
    /// before any actor system starts, so a wrong value is one line and nothing half-starts.
    /// </summary>
    public static void Validate(ClusterSpec spec)
    {
        var config = Cluster(spec);
        try
        {
            var port = config.GetInt("akka.remote.dot-netty.tcp.port");
            if (port is < 0 or > 65535) throw new FormatException($"akka.remote.dot-netty.tcp.port {port} is not a port");
            config.GetString("akka.remote.dot-netty.tcp.hostname");
            config.GetStringList("akka.cluster.roles");
            config.GetStringList("akka.cluster.seed-nodes");
            config.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after");
            config.GetTimeSpan("nas.coordinator.claim-grace");
            if (config.GetInt("nas.coordinator.snapshot-after-policy-updates") < 1)
                throw new FormatException("nas.coordinator.snapshot-after-policy-updates must be at least 1");
            ChildTrainer.Workers.DeviceCheckCadence.From(config);
            MemoryLog.Cadence(config);
        }
        catch (Exception e) when (e is FormatException or ConfigurationException or ArgumentException or OverflowException or InvalidCastException)
        {
            throw Unusable(spec, e.Message, e);
        }
    }

    /// <summary>Starts the node's actor system; a configuration it cannot use is one line naming its source.</summary>
    public static Akka.Actor.ActorSystem CreateSystem(string name, Config config, ClusterSpec? spec = null)
    {
        try
        {
            // The singleton's serializer from the start: a node that joins receives the singleton's
            // hand-over messages before its own singleton manager starts (and logged them as undeserializable).
            config = config.WithFallback(Akka.Cluster.Tools.Singleton.ClusterSingleton.DefaultConfig());
            var system = spec?.Certificate is { } certificate ? Secured(name, config, certificate) : Akka.Actor.ActorSystem.Create(name, config);
            system.ActorOf(MembershipLog.Props(), "membership-log");
            system.ActorOf(MemoryLog.Props(MemoryLog.Cadence(config)), "memory-log");
            return system;
        }
        catch (Exception e) when (e is ConfigurationException or FormatException or AggregateException or ArgumentException or TypeInitializationException)
        {
            var inner = e is AggregateException a ? a.Flatten().InnerExceptions[0] : e.InnerException ?? e;
            throw Unusable(spec, inner.Message, e);
        }
    }

    private static Akka.Actor.ActorSystem Secured(string name, Config config, System.Security.Cryptography.X509Certificates.X509Certificate2 certificate)
    {
        // Mutual authentication, each side pinning the cluster's own certificate: a node with
        // another certificate (or none) fails the handshake in both directions.
        var tls = new Akka.Remote.Transport.DotNetty.DotNettySslSetup(certificate, suppressValidation: false, requireMutualAuthentication: true,
            customValidator: Akka.Remote.Transport.DotNetty.CertificateValidation.PinnedCertificate(certificate.Thumbprint));
        return Akka.Actor.ActorSystem.Create(name, Akka.Actor.BootstrapSetup.Create().WithConfig(config).And(tls));
    }

    /// <summary>The user's HOCON file is what a configuration problem comes from, when there is one; without it, nas's own is wrong.</summary>
    private static Exception Unusable(ClusterSpec? spec, string problem, Exception e) => spec?.HoconFile is { } file
        ? new InputException(NodeInputs.Hocon, $"{file}: {problem.Split('\n')[0]}")
        : new InvalidOperationException($"node configuration: {problem.Split('\n')[0]}", e);

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
            akka.remote.dot-netty.tcp.enable-ssl = {{(cluster.Certificate is null ? "off" : "on")}}
            akka.remote.dot-netty.tcp.ssl.suppress-validation = off
            {{extra}}
            """);
        var user = cluster.HoconFile is { } file ? ConfigurationFactory.ParseString(File.ReadAllText(file)) : Config.Empty;
        return user.WithFallback(node).WithFallback(ClusterHocon());
    }

    private static string Escape(string s) => s.Replace("\\", "\\\\").Replace("\"", "\\\"");
}
