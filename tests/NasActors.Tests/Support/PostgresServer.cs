using System.Diagnostics;
using Npgsql;

namespace NasActors.Tests.Support;

/// <summary>
/// A real PostgreSQL server for the tests (Debian's postgresql package, which ./run-tests installs):
/// a fresh cluster in a temporary folder on a free localhost port, trust authentication for user
/// nas, stopped and deleted at the end. As root it runs as the postgres user (initdb refuses root).
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private readonly string dir = Path.Combine(Path.GetTempPath(), $"nas-pg-{Guid.NewGuid():N}");
    private int databases;

    /// <summary>An address of this machine to listen on besides 127.0.0.1 (trusted for its /16), for hosts in network namespaces.</summary>
    public string? AlsoListenOn { get; init; }

    public int Port { get; } = NasActors.Hosting.ClusterSpec.FreePort();

    /// <summary>A new, empty database for one test: <c>postgresql://nas@HOST:PORT/NAME</c>.</summary>
    public string NewDatabase(string host = "127.0.0.1")
    {
        var name = $"t{Interlocked.Increment(ref databases)}";
        using var connection = new NpgsqlConnection($"Host=127.0.0.1;Port={Port};Username=nas;Database=postgres;Pooling=false");
        connection.Open();
        using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        command.ExecuteNonQuery();
        return $"postgresql://nas@{host}:{Port}/{name}";
    }

    public Task InitializeAsync()
    {
        var bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(v => Path.Combine(v, "bin")).FirstOrDefault(b => File.Exists(Path.Combine(b, "initdb")))
            : null;
        Bin = bin ?? throw new InvalidOperationException("PostgreSQL is not installed (apt-get install postgresql; ./run-tests does it as root)");
        Directory.CreateDirectory(dir);
        if (IsRoot) Run("chown", "postgres", dir);
        PgTool("initdb", "-D", Data, "-A", "trust", "-U", "nas", "--no-sync");
        if (AlsoListenOn is not null) File.AppendAllText(Path.Combine(Data, "pg_hba.conf"), $"host all all {AlsoListenOn}/16 trust\n");
        Start();
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        try
        {
            PgTool("pg_ctl", "-D", Data, "-m", "immediate", "stop");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
        return Task.CompletedTask;
    }

    /// <summary>Stops the server (fast shutdown: every connection is cut), as an administrator's restart does.</summary>
    public void Stop() => PgTool("pg_ctl", "-D", Data, "-m", "fast", "-w", "stop");

    public void Start() =>
        PgTool("pg_ctl", "-D", Data, "-w", "-l", Path.Combine(dir, "server.log"),
            "-o", $"-p {Port} -k {dir} -c listen_addresses=127.0.0.1{(AlsoListenOn is null ? "" : "," + AlsoListenOn)} -c fsync=off", "start");

    private string Bin { get; set; } = "";

    private string Data => Path.Combine(dir, "data");

    private static bool IsRoot => Environment.UserName == "root";

    private void PgTool(string tool, params string[] args) =>
        Run(IsRoot ? "runuser" : Path.Combine(Bin, tool), IsRoot ? ["-u", "postgres", "--", Path.Combine(Bin, tool), .. args] : args);

    private static void Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({p.ExitCode}): {stderr}{stdout.Result}");
    }
}

[CollectionDefinition("postgres")]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>;
