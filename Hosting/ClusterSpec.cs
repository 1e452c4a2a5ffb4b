using System.Net;
using NasActors.Protocol;

namespace NasActors.Hosting;

/// <summary>
/// Where a node listens, whom it joins and which roles it serves. No seeds: a one-node cluster
/// that joins itself (the embedded default).
/// </summary>
public sealed record ClusterSpec(string Host, int Port, IReadOnlyList<string> Seeds, IReadOnlyList<string> Roles, string? HoconFile,
    System.Security.Cryptography.X509Certificates.X509Certificate2? Certificate = null)
{
    public const string Coordinator = "coordinator";
    public const string Trainer = "trainer";
    public const string Evaluator = "evaluator";
    public static readonly IReadOnlyList<string> AllRoles = [Coordinator, Trainer, Evaluator];

    public static readonly ClusterSpec Embedded = new("127.0.0.1", 0, [], AllRoles, null);

    public bool Has(string role) => Roles.Contains(role);

    /// <summary>
    /// A directory every trainer node of the cluster reads and writes (a shared filesystem, as on a
    /// Slurm cluster): the children's checkpoints live there, so a child requeued from a lost node
    /// resumes on another. One run's at a time. Null: a folder run keeps them in its folder, a
    /// cluster run keeps none.
    /// </summary>
    public string? Artifacts { get; init; }

    /// <summary>No seeds and no port to be reached at: no other node can ever be in its cluster.</summary>
    public bool Lone => Seeds.Count == 0 && Port == 0;

    /// <summary>Seeds as Akka addresses (TLS has a protocol of its own).</summary>
    public IEnumerable<string> SeedAddresses => Seeds.Select(s => $"{(Certificate is null ? "akka.tcp" : "akka.ssl.tcp")}://{SystemName}@{s}");

    public const string SystemName = "nas";

    /// <summary>Parses the options; every problem names its option.</summary>
    public static ClusterSpec Parse(string? host, int? port, string? join, string? roles, string? hocon, IReadOnlyList<string> defaultRoles, string? tls = null)
    {
        host ??= "127.0.0.1";
        if (host.Length == 0 || Uri.CheckHostName(host) == UriHostNameType.Unknown)
            throw new InputException(NodeInputs.Host, $"'{host}' is not a host name or IP address");
        // Other nodes reach this one at --host: an address that means "every interface" reaches nothing.
        if (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any)))
            throw new InputException(NodeInputs.Host, $"give the address other nodes reach this machine at, not {host}");
        if (port is < 0 or > 65535) throw new InputException(NodeInputs.Port, $"expected 0 (any free port) to 65535, got {port}");
        var seeds = (join ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Seed).ToList();
        if (join is not null && seeds.Count == 0) throw new InputException(NodeInputs.Join, "give at least one seed as HOST:PORT");
        var roleList = roles is null ? defaultRoles : roles.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToList();
        if (roleList.Count == 0) throw new InputException(NodeInputs.Roles, "give at least one of coordinator, trainer, evaluator");
        if (roleList.FirstOrDefault(r => !AllRoles.Contains(r)) is { } bad)
            throw new InputException(NodeInputs.Roles, $"'{bad}' is not one of coordinator, trainer, evaluator");
        if (hocon is not null) CheckHocon(hocon);
        return new ClusterSpec(host, port ?? 0, seeds, roleList, hocon, tls is null ? null : ClusterCertificate.Load(tls));
    }

    private static void CheckHocon(string file)
    {
        if (Directory.Exists(file)) throw new InputException(NodeInputs.Hocon, $"{file} is a folder, not a HOCON file");
        if (!File.Exists(file)) throw new InputException(NodeInputs.Hocon, $"{file} does not exist");
        Akka.Configuration.Config config;
        try
        {
            config = Akka.Configuration.ConfigurationFactory.ParseString(File.ReadAllText(file));
        }
        catch (Exception e) when (e is not IOException)
        {
            throw new InputException(NodeInputs.Hocon, $"{file}: {e.Message.Split('\n')[0]}");
        }
        // Akka's parser takes much that is not HOCON without a word: a file that sets nothing is a mistake.
        if (config.IsEmpty || config.Root.GetObject().Items.Count == 0)
            throw new InputException(NodeInputs.Hocon, $"{file} sets nothing (not HOCON?)");
    }

    /// <summary>A fixed port must be free: two nodes on one port would both listen (the socket allows it) and one would hang.</summary>
    public void RequireFreePort()
    {
        if (Port == 0) return;
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.TryParse(Host.Trim('[', ']'), out var ip) ? ip : IPAddress.Loopback, Port));
        }
        catch (System.Net.Sockets.SocketException e)
        {
            throw new InputException(NodeInputs.Port, $"{Host}:{Port} is not free ({e.Message})");
        }
    }

    /// <summary>A port free on this machine now (for nodes and servers started on any port).</summary>
    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string Seed(string text)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text[(colon + 1)..], out var p) || p is < 1 or > 65535 || Uri.CheckHostName(text[..colon]) == UriHostNameType.Unknown)
            throw new InputException(NodeInputs.Join, $"'{text}' is not HOST:PORT");
        return text;
    }
}
