using System.CommandLine;
using NasActors.Hosting;

namespace NasActors.Cli.Commands;

/// <summary>Where a node listens and whom it joins (<c>nas search</c>, <c>nas node</c>).</summary>
public sealed class ClusterOptions(bool joinRequired)
{
    public Option<string?> Host { get; } = new("--host") { Description = "address this node listens on and other nodes reach it at (default 127.0.0.1)" };

    public Option<int?> Port { get; } = new("--port") { Description = "port this node listens on (default 0: any free port; a seed needs a fixed one)" };

    public Option<string?> Join { get; } = new("--join")
    {
        Description = joinRequired ? "seed node(s) to join, HOST:PORT[,HOST:PORT...]" : "seed node(s), HOST:PORT[,...]; without it a one-node cluster",
        Required = joinRequired,
    };

    public Option<string?> Hocon { get; } = new("--hocon") { Description = "a HOCON file layered over the node's configuration (cluster.hocon)" };

    public Option<string?> Tls { get; } = new("--tls")
    {
        Description = $"the cluster's certificate (FILE.pfx from nas cert; password from {ClusterCertificate.PasswordVariable}): TLS between nodes, "
            + "and only nodes with this certificate may join. Without it, run the cluster on a private network",
    };

    public Option<string?> Artifacts { get; } = new("--artifacts")
    {
        Description = "a directory all trainer nodes share (e.g. on NFS): children's checkpoints live there, so a child from a lost node resumes on another",
    };

    private Option<string?>? roles;

    public void AddTo(Command command, string defaultRoles)
    {
        roles = new Option<string?>("--roles") { Description = $"roles this node serves: coordinator, trainer, evaluator (default {defaultRoles})" };
        command.Options.Add(Host);
        command.Options.Add(Port);
        command.Options.Add(Join);
        command.Options.Add(roles);
        command.Options.Add(Hocon);
        command.Options.Add(Tls);
        command.Options.Add(Artifacts);
    }

    public ClusterSpec Parse(ParseResult parse, IReadOnlyList<string> defaultRoles) =>
        ClusterSpec.Parse(parse.GetValue(Host), parse.GetValue(Port), parse.GetValue(Join), parse.GetValue(roles!), parse.GetValue(Hocon), defaultRoles, parse.GetValue(Tls))
            with { Artifacts = parse.GetValue(Artifacts) is { } dir ? Preflight.Artifacts(dir) : null };
}
