using System.Net;

namespace NasActors.Node.Hosting;

/// <summary>
/// Where a node listens, whom it joins and which roles it serves. No seeds: a one-node cluster
/// that joins itself (the embedded default).
/// </summary>
public sealed record ClusterSpec(string Host, int Port, IReadOnlyList<string> Seeds, IReadOnlyList<string> Roles, string? HoconFile)
{
    public const string Coordinator = "coordinator";
    public const string Trainer = "trainer";
    public const string Evaluator = "evaluator";
    public static readonly IReadOnlyList<string> AllRoles = [Coordinator, Trainer, Evaluator];

    public static readonly ClusterSpec Embedded = new("127.0.0.1", 0, [], AllRoles, null);

    public bool Has(string role) => Roles.Contains(role);

    /// <summary>Seeds as Akka addresses.</summary>
    public IEnumerable<string> SeedAddresses => Seeds.Select(s => $"akka.tcp://{SystemName}@{s}");

    public const string SystemName = "nas";

    /// <summary>Parses the options; every problem names its option.</summary>
    public static ClusterSpec Parse(string? host, int? port, string? join, string? roles, string? hocon, IReadOnlyList<string> defaultRoles)
    {
        host ??= "127.0.0.1";
        if (host.Length == 0 || Uri.CheckHostName(host) == UriHostNameType.Unknown)
            throw new ArgumentException($"--host: '{host}' is not a host name or IP address");
        if (port is < 0 or > 65535) throw new ArgumentException($"--port: expected 0 (any free port) to 65535, got {port}");
        var seeds = (join ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Seed).ToList();
        var roleList = roles is null ? defaultRoles : roles.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToList();
        if (roleList.Count == 0) throw new ArgumentException("--roles: give at least one of coordinator, trainer, evaluator");
        if (roleList.FirstOrDefault(r => !AllRoles.Contains(r)) is { } bad)
            throw new ArgumentException($"--roles: '{bad}' is not one of coordinator, trainer, evaluator");
        if (hocon is not null && !File.Exists(hocon)) throw new ArgumentException($"--hocon: {hocon} does not exist");
        return new ClusterSpec(host, port ?? 0, seeds, roleList, hocon);
    }

    private static string Seed(string text)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text[(colon + 1)..], out var p) || p is < 1 or > 65535 || Uri.CheckHostName(text[..colon]) == UriHostNameType.Unknown)
            throw new ArgumentException($"--join: '{text}' is not HOST:PORT");
        return text;
    }
}
