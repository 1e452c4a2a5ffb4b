using System.Diagnostics;
using System.Text.Json;
using NasActors.Persistence;
using NasActors.Search;
using NasActors.Search.Events;
using NasActors.Tests.Support;
using static NasActors.Tests.Support.ClusterProcesses;

namespace NasActors.Tests.Hosting;

/// <summary>TLS between nodes with the cluster's own certificate: a node without it, or with another one, cannot join and gets no work.</summary>
public sealed class TlsTests
{
    private const string Password = "correct horse battery staple";

    [Fact]
    public async Task Only_a_node_holding_the_cluster_certificate_joins_and_trains()
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        var certificate = Cert(Path.Combine(dir.Path, "cluster.pfx"));
        var another = Cert(Path.Combine(dir.Path, "other.pfx"));
        var seed = $"127.0.0.1:{FreePort()}";
        using var search = Start(Password, SeedSearch(seed, "--run", run, "--tls", certificate, "--children", "12", "--top-k", "1", "--strategy", "random", "--json"));
        var stdout = search.StandardOutput.ReadToEndAsync();
        using var impostor = Start(Password, "node", "--join", seed, "--tls", another, "--trainer", "synthetic:100");
        using var plain = Start(null, "node", "--join", seed, "--trainer", "synthetic:100");
        Process? member = null;
        try
        {
            // Give the two outsiders time to try: neither is let in.
            var outsiders = new[] { Announced(impostor), Announced(plain) };
            await Task.WhenAny(Task.WhenAll(outsiders), Task.Delay(TimeSpan.FromSeconds(12)));
            Assert.All(outsiders, t => Assert.False(t.IsCompletedSuccessfully, "a node without the cluster's certificate joined"));
            Assert.Equal(0, ReadState(run).Trained);

            member = Start(Password, "node", "--join", seed, "--tls", certificate, "--trainer", "synthetic:100", "--workers-per-device", "2");
            Assert.True(search.WaitForExit(TimeSpan.FromMinutes(2)), "the search did not finish with the member node");
            Assert.Equal(12, JsonDocument.Parse(await stdout).RootElement.GetProperty("completed").GetInt32());
            var workers = new FolderRunStore(run).ReadEvents().OfType<ChildAssigned>().Select(a => a.WorkerId).Distinct().ToList();
            Assert.All(workers, w => Assert.Contains($":{member.Id}/", w));
            Assert.False(impostor.HasExited || plain.HasExited);
        }
        finally
        {
            foreach (var p in new[] { search, impostor, plain, member })
                if (p is { HasExited: false }) p.Kill();
            member?.Dispose();
        }
    }

    [Fact]
    public void Certificates_are_made_once_and_a_wrong_or_missing_one_is_one_line()
    {
        using var dir = new TempDir();
        var file = Cert(Path.Combine(dir.Path, "cluster.pfx"));
        var cases = new[]
        {
            (Run(Password, "cert", "--out", file), $"--out: {file} exists"),
            (Run(null, "cert", "--out", Path.Combine(dir.Path, "b.pfx")), "NAS_TLS_PASSWORD is not set"),
            (Run("wrong", "node", "--join", "127.0.0.1:1", "--tls", file), "NAS_TLS_PASSWORD is not its password"),
            (Run(Password, "node", "--join", "127.0.0.1:1", "--tls", Path.Combine(dir.Path, "none.pfx")), "does not exist (make one with nas cert"),
            (Run(Password, "search", "--run", Path.Combine(dir.Path, "run"), "--tls", dir.File("junk.pfx", "not a certificate")), "cannot be opened"),
        };
        foreach (var (r, message) in cases)
        {
            Assert.Equal(2, r.ExitCode);
            Assert.Contains(message, r.Stderr);
            Assert.Single(r.Stderr.Trim().Split('\n'));
        }
        Assert.False(File.Exists(Path.Combine(dir.Path, "b.pfx")));
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "run")));
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
    }

    private static SearchState ReadState(string run) => File.Exists(Path.Combine(run, PersistenceConfig.JournalFile)) ? new FolderRunStore(run).ReadState() : SearchState.Empty;

    private static string Cert(string file)
    {
        var r = Run(Password, "cert", "--out", file, "--hosts", "127.0.0.1,localhost");
        Assert.True(r.ExitCode == 0, r.Stderr);
        return file;
    }

    private static Process Start(string? password, params string[] args)
    {
        var info = NasProcess.StartInfo(args);
        if (password is null) info.Environment.Remove("NAS_TLS_PASSWORD");
        else info.Environment["NAS_TLS_PASSWORD"] = password;
        return Process.Start(info)!;
    }

    private static NasProcess.Result Run(string? password, params string[] args)
    {
        using var p = Start(password, args);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(1))) p.Kill();
        return new(p.ExitCode, stdout.Result, stderr.Result);
    }
}
