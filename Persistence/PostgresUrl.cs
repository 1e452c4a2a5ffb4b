using NasActors.Protocol;
using Npgsql;

namespace NasActors.Persistence;

/// <summary>
/// A PostgreSQL database given as <c>postgresql://USER@HOST[:PORT]/DATABASE</c>. The password never
/// comes from the command line (where every process on the machine could read it): Npgsql takes it
/// from <c>PGPASSWORD</c> or <c>~/.pgpass</c>, as psql does.
/// </summary>
public sealed record PostgresUrl(string User, string Host, int Port, string Database)
{
    public static PostgresUrl Parse(string text)
    {
        const string expected = "expected postgresql://USER@HOST[:PORT]/DATABASE";
        if (string.IsNullOrWhiteSpace(text)) throw new InputException(RunInputs.Journal, $"give a database URL ({expected})");
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("postgresql" or "postgres"))
            throw new InputException(RunInputs.Journal, $"'{text}' is not a PostgreSQL URL ({expected})");
        if (uri.UserInfo.Contains(':'))
            throw new InputException(RunInputs.Journal, "no password in the URL (other processes can read command lines); put it in PGPASSWORD or ~/.pgpass");
        var database = Uri.UnescapeDataString(uri.AbsolutePath.Trim('/'));
        var user = Uri.UnescapeDataString(uri.UserInfo);
        string? problem = user.Length == 0 ? "names no user"
            : database.Length == 0 ? "names no database"
            : database.Contains('/') ? "names more than a database in its path"
            : uri.Host.Length == 0 ? "names no host"
            : uri.Query.Length > 0 || uri.Fragment.Length > 0 ? "has parts after the database (?... or #...), which nas does not take"
            : uri.Port == 0 ? "has port 0"
            : (user + database).Any(char.IsControl) ? "holds control characters"
            : null;
        if (problem is not null) throw new InputException(RunInputs.Journal, $"'{text}' {problem} ({expected})");
        // IdnHost: an IPv6 address without its brackets, as Npgsql takes it.
        return new(user, uri.IdnHost, uri.IsDefaultPort ? 5432 : uri.Port, database);
    }

    /// <summary>For messages and hints: the URL with its port, which holds no secret.</summary>
    public override string ToString() => $"postgresql://{Uri.EscapeDataString(User)}@{(Host.Contains(':') ? $"[{Host}]" : Host)}:{Port}/{Uri.EscapeDataString(Database)}";

    /// <summary>Npgsql's connection string for the journal (pooled); short timeouts, so a server that is down is an error in seconds, not a hang.</summary>
    public string ConnectionString => Connection(pooling: true);

    /// <summary>
    /// An unpooled connection ends when it is disposed: what a lease's connection must do (a pooled
    /// one would keep its advisory lock), and what a short-lived reader wants.
    /// </summary>
    public string Unpooled => Connection(pooling: false);

    /// <summary>
    /// A writer lease's connection (unpooled): the server ends the session, and with it the lease,
    /// when its holder has been silent for 10 s (it checks the lease every second) or its machine
    /// stops answering TCP keepalives, so a holder that froze or was cut off frees the run in seconds.
    /// </summary>
    public string Lease => new NpgsqlConnectionStringBuilder(Unpooled)
    {
        Options = "-c idle_session_timeout=10s -c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2 -c tcp_keepalives_count=3",
        CommandTimeout = 3,
    }.ConnectionString;

    private string Connection(bool pooling) => new NpgsqlConnectionStringBuilder
    {
        Host = Host,
        Port = Port,
        Database = Database,
        Username = User,
        Timeout = 5,
        CommandTimeout = 30,
        ApplicationName = "nas",
        Pooling = pooling,
    }.ConnectionString;
}
