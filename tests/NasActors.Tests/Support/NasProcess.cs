using System.Diagnostics;

namespace NasActors.Tests.Support;

/// <summary>Runs the real <c>nas</c> executable (built next to the tests) as a child process.</summary>
public static class NasProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(params string[] args) => Run(TimeSpan.FromMinutes(2), args);

    /// <summary>The checkout the tests were built from (the folder holding NasActors.sln).</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "NasActors.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no NasActors.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>Starts nas without waiting (output discarded), for tests that kill it.</summary>
    public static Process Start(params string[] args)
    {
        var start = StartInfo(args);
        start.RedirectStandardOutput = false;
        start.RedirectStandardError = false;
        return Process.Start(start)!;
    }

    /// <summary>How to start nas with these arguments, output redirected.</summary>
    public static ProcessStartInfo StartInfo(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "nas.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        return start;
    }

    public static Result Run(TimeSpan timeout, params string[] args) => Run(timeout, new Dictionary<string, string>(), args);

    /// <summary>Runs nas with these environment variables set on top of the test's own.</summary>
    public static Result Run(TimeSpan timeout, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = StartInfo(args);
        foreach (var (name, value) in environment) start.Environment[name] = value;
        return RunToEnd(start, timeout);
    }

    /// <summary>Runs any program (output redirected) to its end; past <paramref name="timeout"/> it is killed and that is an error.</summary>
    public static Result RunToEnd(ProcessStartInfo start, TimeSpan timeout)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var p = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {start.FileName}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{start.FileName} {string.Join(' ', start.ArgumentList)} did not finish in {timeout}");
        }
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }
}
