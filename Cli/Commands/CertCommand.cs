using System.CommandLine;
using NasActors.Hosting;
using NasActors.Protocol;

namespace NasActors.Cli.Commands;

/// <summary><c>nas cert</c>: makes the cluster's self-signed certificate for <c>--tls</c> (copy it to every node).</summary>
public static class CertCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out", "-o") { Description = "the PFX file to write (never replaced)", Required = true };
        var hosts = new Option<string>("--hosts") { Description = "host names and addresses the certificate names, comma-separated (default: this machine, localhost, 127.0.0.1)" };
        var days = new Option<int>("--days") { Description = "days it stays valid (default 3650)", DefaultValueFactory = _ => 3650 };
        var command = new Command("cert", $"Make a cluster certificate for --tls (password from {ClusterCertificate.PasswordVariable})") { output, hosts, days };
        command.SetAction(parse => CommandErrors.Guard(() =>
        {
            var file = parse.GetValue(output)!;
            if (string.IsNullOrWhiteSpace(file)) throw new InputException("--out", "give a file name");
            if (File.Exists(file) || Directory.Exists(file)) throw new InputException("--out", $"{file} exists; it is left alone (a new certificate would lock every node holding the old one out)");
            if (parse.GetValue(days) is < 1 or > 36500) throw new InputException("--days", $"expected 1 to 36500, got {parse.GetValue(days)}");
            var password = Environment.GetEnvironmentVariable(ClusterCertificate.PasswordVariable);
            if (string.IsNullOrEmpty(password))
                throw new InputException($"{ClusterCertificate.PasswordVariable} is not set: the certificate's private key is written under that password");
            var names = parse.GetValue(hosts)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                ?? [Environment.MachineName, "localhost", "127.0.0.1"];
            if (names.Length == 0) throw new InputException("--hosts", "give at least one host name or address");
            if (names.FirstOrDefault(h => Uri.CheckHostName(h) == UriHostNameType.Unknown) is { } bad)
                throw new InputException("--hosts", $"'{bad}' is not a host name or address");
            using var certificate = ClusterCertificate.Create(names, parse.GetValue(days));
            try
            {
                ClusterCertificate.Write(certificate, file, password);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new IOException($"--out: cannot write {file} ({e.Message})", e);
            }
            Console.Out.WriteLine($"{file}: cluster certificate {certificate.Thumbprint}, valid until {certificate.NotAfter:yyyy-MM-dd}; give every node --tls {file}");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
