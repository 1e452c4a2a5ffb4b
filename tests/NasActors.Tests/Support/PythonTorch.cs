using System.Diagnostics;
using System.Text.Json;

namespace NasActors.Tests.Support;

/// <summary>
/// Debian's PyTorch (<c>python3-torch</c>, for <c>/usr/bin/python3</c>; ./run-tests installs it), running
/// Fixtures/pytorch/check_model.py: what an exported network does in PyTorch itself.
/// </summary>
public static class PythonTorch
{
    private const string Python = "/usr/bin/python3";

    public static readonly string Script = Path.Combine(NasProcess.RepositoryRoot, "tests", "NasActors.Tests", "Fixtures", "pytorch", "check_model.py");

    /// <summary>The script's JSON answer; a failure says what PyTorch said.</summary>
    public static JsonElement Run(params string[] args)
    {
        var info = new ProcessStartInfo(Python);
        info.ArgumentList.Add(Script);
        foreach (var a in args) info.ArgumentList.Add(a);
        // One thread each: the tests share two cores with other tests.
        info.Environment["OMP_NUM_THREADS"] = "1";
        var r = NasProcess.RunToEnd(info, TimeSpan.FromMinutes(3));
        if (r.ExitCode != 0)
        {
            var hint = r.Stderr.Contains("No module named 'torch'", StringComparison.Ordinal) ? " (install Debian's python3-torch, as ./run-tests does)" : "";
            throw new InvalidOperationException($"check_model.py {string.Join(' ', args)} exited {r.ExitCode}{hint}:\n{r.Stderr}");
        }
        using var doc = JsonDocument.Parse(r.Stdout);
        return doc.RootElement.Clone();
    }
}
