using System.Diagnostics;
using System.Text.Json;
using NasActors.Tests.Support;

namespace NasActors.Tests.Cli;

/// <summary>
/// The libtorch a build carries (TorchBackend / NAS_TORCH_BACKEND). The CUDA package cannot be
/// restored here (our feed lacks it): what can be tested is the choice of package and the one
/// line a feed without it gives.
/// </summary>
public class TorchBackendTests
{
    private static NasProcess.Result Run(string file, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = NasProcess.RepositoryRoot };
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var (name, value) in environment) start.Environment[name] = value;
        return NasProcess.RunToEnd(start, TimeSpan.FromMinutes(4));
    }

    [Theory]
    [InlineData("cpu", "TorchSharp-cpu")]
    [InlineData("cuda", "TorchSharp-cuda-linux")]
    [InlineData("system", "TorchSharp")]
    public void Each_backend_references_its_own_libtorch_package(string backend, string package)
    {
        var r = Run("dotnet", new Dictionary<string, string>(), "msbuild", "Training/Training.csproj", "-getItem:PackageReference", $"-p:TorchBackend={backend}", "-nologo");
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var torch = doc.RootElement.GetProperty("Items").GetProperty("PackageReference").EnumerateArray()
            .Select(i => i.GetProperty("Identity").GetString()!).Where(id => id.StartsWith("TorchSharp", StringComparison.Ordinal) && id != "TorchSharp.PyBridge");
        Assert.Equal([package], torch);
    }

    [Fact]
    public void A_feed_without_the_CUDA_package_is_said_in_one_line()
    {
        var r = Run("bash", new Dictionary<string, string> { ["NAS_TORCH_BACKEND"] = "cuda" }, "./nas", "--help");
        Assert.Equal(1, r.ExitCode);
        // Before the build, one line says it is building (a first build is silent for minutes otherwise).
        var lines = r.Stderr.Trim().Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("nas: building the nas command into .build/nas-cuda (first build: 2-3 minutes", lines[0]);
        Assert.Equal("nas: the package feed has no TorchSharp-cuda-linux (NAS_TORCH_BACKEND=cuda); use NAS_TORCH_BACKEND=system with an installed PyTorch, or add a NuGet feed that serves it",
            lines[1]);
        var unknown = Run("bash", new Dictionary<string, string> { ["NAS_TORCH_BACKEND"] = "gpu" }, "./nas", "--help");
        Assert.Equal((1, "nas: NAS_TORCH_BACKEND must be cpu, cuda or system, not 'gpu'"), (unknown.ExitCode, unknown.Stderr.Trim()));
    }
}
