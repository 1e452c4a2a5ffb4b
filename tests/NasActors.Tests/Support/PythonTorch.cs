using System.Diagnostics;
using System.Text.Json;

namespace NasActors.Tests.Support;

/// <summary>
/// Debian's PyTorch (<c>python3-torch</c>, for <c>/usr/bin/python3</c>; .ci/run installs it), running
/// Fixtures/pytorch/check_model.py: what an exported network does in PyTorch itself.
/// </summary>
public static class PythonTorch
{
    private const string Python = "/usr/bin/python3";

    public static readonly string Script = Path.Combine(NasProcess.RepositoryRoot, "tests", "NasActors.Tests", "Fixtures", "pytorch", "check_model.py");

    /// <summary>The script's JSON answer; a failure says what PyTorch said.</summary>
    public static JsonElement Run(params string[] args)
    {
        var info = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Script);
        foreach (var a in args) info.ArgumentList.Add(a);
        // One thread each: the tests share two cores with other tests.
        info.Environment["OMP_NUM_THREADS"] = "1";
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {Python}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"check_model.py {string.Join(' ', args)} ran over 3 minutes");
        }
        if (process.ExitCode != 0)
        {
            var error = stderr.Result;
            var hint = error.Contains("No module named 'torch'", StringComparison.Ordinal) ? " (install Debian's python3-torch, as .ci/run does)" : "";
            throw new InvalidOperationException($"check_model.py {string.Join(' ', args)} exited {process.ExitCode}{hint}:\n{error}");
        }
        using var doc = JsonDocument.Parse(stdout.Result);
        return doc.RootElement.Clone();
    }
}
