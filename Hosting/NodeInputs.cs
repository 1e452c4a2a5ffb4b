using NasActors.Protocol;

namespace NasActors.Hosting;

/// <summary>What a user gives to place a node in a cluster, and what it runs.</summary>
public static class NodeInputs
{
    public static readonly UserInput Host = new("host");
    public static readonly UserInput Port = new("port");
    public static readonly UserInput Join = new("join");
    public static readonly UserInput Roles = new("roles");
    public static readonly UserInput Hocon = new("hocon");
    public static readonly UserInput Tls = new("tls");
    public static readonly UserInput Trainer = new("trainer");
}
