using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using NasActors.Protocol;

namespace NasActors.Hosting;

/// <summary>
/// The cluster's certificate: one self-signed certificate that every node of a cluster holds
/// (<c>nas cert</c> makes it; <c>--tls FILE.pfx</c> uses it). Nodes accept exactly this certificate
/// from each other (pinned by thumbprint, in both directions), so a machine without it, or with
/// another one, cannot join. The PFX password comes from <c>NAS_TLS_PASSWORD</c>, never from the command line.
/// </summary>
public static class ClusterCertificate
{
    public const string PasswordVariable = "NAS_TLS_PASSWORD";

    /// <summary>A new RSA-2048 certificate for server and client authentication, valid for <paramref name="days"/>.</summary>
    public static X509Certificate2 Create(IEnumerable<string> hosts, int days)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=nas cluster", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, critical: true));
        var names = new SubjectAlternativeNameBuilder();
        foreach (var host in hosts.Distinct())
        {
            if (System.Net.IPAddress.TryParse(host, out var ip)) names.AddIpAddress(ip);
            else names.AddDnsName(host);
        }
        request.CertificateExtensions.Add(names.Build());
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(days));
    }

    /// <summary>Writes the certificate with its private key as a password-protected PFX that only its owner can read.</summary>
    public static void Write(X509Certificate2 certificate, string file, string password)
    {
        var bytes = certificate.Export(X509ContentType.Pkcs12, password);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        // Created unreadable by others from the start: no moment in which another user could open it.
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var stream = new FileStream(file, options);
        stream.Write(bytes);
    }

    /// <summary>Loads <c>--tls FILE.pfx</c>; every problem (missing, not a PFX, wrong password, no key, expired) is one line.</summary>
    public static X509Certificate2 Load(string file)
    {
        if (Directory.Exists(file)) throw new InputException(NodeInputs.Tls, $"{file} is a folder, not a PFX file");
        if (!File.Exists(file)) throw new InputException(NodeInputs.Tls, $"{file} does not exist (make one with nas cert --out {file})");
        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(file, Environment.GetEnvironmentVariable(PasswordVariable) ?? "", X509KeyStorageFlags.EphemeralKeySet);
        }
        catch (CryptographicException e)
        {
            throw new InputException(NodeInputs.Tls, $"{file} cannot be opened: not a PFX file, or {PasswordVariable} is not its password ({e.Message.Split('\n')[0].TrimEnd('.')})");
        }
        if (!certificate.HasPrivateKey) throw new InputException(NodeInputs.Tls, $"{file} holds no private key");
        if (certificate.NotAfter < DateTime.Now) throw new InputException(NodeInputs.Tls, $"the certificate in {file} expired on {certificate.NotAfter:yyyy-MM-dd}");
        return certificate;
    }
}
