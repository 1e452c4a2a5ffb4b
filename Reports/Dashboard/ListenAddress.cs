using System.Net;

namespace NasActors.Reports.Dashboard;

/// <summary>Where the dashboard listens: <c>localhost</c> or an address of this machine, and a port (0: any free one).</summary>
public sealed record ListenAddress(string Host, int Port)
{
    public string Url => $"http://{(Host == "localhost" ? "127.0.0.1" : Host)}:{Port}";

    public override string ToString() => $"{Host}:{Port}";

    /// <summary>What is wrong with <paramref name="host"/> as a place to listen, or null.</summary>
    public static string? HostProblem(string host) =>
        host == "localhost" || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && !IsNotListenable(ip))
            ? null
            : $"'{host}' is not an address of this machine to listen on (an IP address, or localhost)";

    public static string? PortProblem(int port) => port is < 0 or > 65535 ? $"expected 0 (any free port) to 65535, got {port}" : null;

    private static bool IsNotListenable(IPAddress ip) =>
        ip.Equals(IPAddress.Broadcast) || (ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && ip.GetAddressBytes()[0] >= 224) || ip.IsIPv6Multicast;
}
