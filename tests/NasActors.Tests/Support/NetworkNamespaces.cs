using System.Diagnostics;

namespace NasActors.Tests.Support;

/// <summary>
/// Several hosts on this machine: a network namespace per host, each with two links (veth pairs)
/// to two bridges: the cluster's network (10.A.0.0/24) and the database's (10.A+1.0.0/24, the
/// root namespace at .254). Cutting a host's cluster link is a real partition that leaves its
/// database link up, as when a switch between racks fails.
/// </summary>
public sealed class NetworkNamespaces : IDisposable
{
    private readonly string id = $"{Environment.ProcessId % 1000:D3}{Random.Shared.Next(100):D2}";
    private readonly int subnet = Random.Shared.Next(100, 200) & ~1;
    private readonly int hosts;
    private readonly List<Process> processes = [];

    private NetworkNamespaces(int hosts) => this.hosts = hosts;

    /// <summary>Where PostgreSQL listens for the hosts (in the root namespace).</summary>
    public string DatabaseAddress => $"10.{subnet + 1}.0.254";

    public string Address(int host) => $"10.{subnet}.0.{host}";

    public static NetworkNamespaces Create(int hosts)
    {
        var net = new NetworkNamespaces(hosts);
        try
        {
            net.Build();
            return net;
        }
        catch
        {
            net.Dispose();
            throw;
        }
    }

    private void Build()
    {
        foreach (var (bridge, net) in new[] { (Bridge("c"), subnet), (Bridge("d"), subnet + 1) })
        {
            Ip("link", "add", bridge, "type", "bridge");
            Ip("addr", "add", $"10.{net}.0.254/24", "dev", bridge);
            Ip("link", "set", bridge, "up");
        }
        for (var h = 1; h <= hosts; h++)
        {
            var ns = Namespace(h);
            Ip("netns", "add", ns);
            Ip("-n", ns, "link", "set", "lo", "up");
            foreach (var (kind, net) in new[] { ("c", subnet), ("d", subnet + 1) })
            {
                var outside = Link(kind, h);
                var inner = $"nas{kind}0";
                Ip("link", "add", outside, "type", "veth", "peer", "name", inner, "netns", ns);
                Ip("link", "set", outside, "master", Bridge(kind));
                Ip("link", "set", outside, "up");
                Ip("-n", ns, "addr", "add", $"10.{net}.0.{h}/24", "dev", inner);
                Ip("-n", ns, "link", "set", inner, "up");
            }
        }
    }

    /// <summary>Starts nas inside a host's namespace.</summary>
    public Process Start(int host, params string[] args)
    {
        var nas = NasProcess.StartInfo(args);
        var info = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "netns", "exec", Namespace(host), nas.FileName }.Concat(nas.ArgumentList)) info.ArgumentList.Add(a);
        foreach (var (k, v) in nas.Environment) info.Environment[k] = v;
        var p = Process.Start(info)!;
        processes.Add(p);
        return p;
    }

    /// <summary>Cuts the host off the cluster's network (its database link stays up).</summary>
    public void Cut(int host) => Ip("link", "set", Link("c", host), "down");

    public void Dispose()
    {
        foreach (var p in processes)
        {
            try
            {
                if (!p.HasExited) p.Kill();
            }
            catch (InvalidOperationException)
            {
                // Disposed by the test already.
            }
            p.Dispose();
        }
        for (var h = 1; h <= hosts; h++)
        {
            // A namespace lingers while a killed process in it is being reaped: its links go explicitly.
            Try("link", "del", Link("c", h));
            Try("link", "del", Link("d", h));
            Try("netns", "del", Namespace(h));
        }
        Try("link", "del", Bridge("c"));
        Try("link", "del", Bridge("d"));
    }

    private string Namespace(int host) => $"nas{id}h{host}";

    private string Bridge(string kind) => $"nb{kind}{id}";

    private string Link(string kind, int host) => $"nv{kind}{id}{host}";

    private static void Ip(params string[] args)
    {
        if (Run(args) is { } error) throw new InvalidOperationException($"ip {string.Join(' ', args)}: {error}");
    }

    private static void Try(params string[] args) => Run(args);

    private static string? Run(string[] args)
    {
        var info = new ProcessStartInfo("ip") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        var error = p.StandardError.ReadToEnd();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return p.ExitCode == 0 ? null : error.Trim();
    }
}
