using System.Diagnostics;
using NasActors.Tests.Support;

namespace NasActors.Tests.Cli;

/// <summary>deploy/pack: nas built once, run where it lies by its launcher, with nothing built there.</summary>
public class PackTests
{
    private static NasProcess.Result Run(string file, string workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = workingDirectory };
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        return NasProcess.RunToEnd(start, TimeSpan.FromMinutes(6));
    }

    [Fact]
    public void A_pack_runs_from_any_folder_without_the_repository_and_builds_nothing()
    {
        using var dir = new TempDir();
        var pack = Path.Combine(dir.Path, "pack");
        var built = Run(Path.Combine(NasProcess.RepositoryRoot, "deploy", "pack"), dir.Path, null, pack, "cpu");
        Assert.True(built.ExitCode == 0, built.Stderr);
        Assert.Equal("cpu", File.ReadAllText(Path.Combine(pack, "lib", "torch-backend")).Trim());
        // Linux x64's natives only: other platforms' would only take room on every machine.
        Assert.Equal(["linux-x64", "unix"], Directory.GetDirectories(Path.Combine(pack, "lib", "runtimes")).Select(Path.GetFileName).Order());

        // Moved elsewhere (as copied to a machine), it runs from another folder; nothing is written into it.
        var moved = Path.Combine(dir.Path, "opt", "nasactors");
        Directory.CreateDirectory(Path.GetDirectoryName(moved)!);
        Directory.Move(pack, moved);
        var files = Directory.GetFiles(moved, "*", SearchOption.AllDirectories).Length;
        var work = Directory.CreateDirectory(Path.Combine(dir.Path, "work")).FullName;
        var shown = Run(Path.Combine(moved, "nas"), work, null, "show", "--genotype", "nasnet-a", "--format", "json");
        Assert.True(shown.ExitCode == 0, shown.Stderr);
        Assert.Contains("\"normal\"", shown.Stdout);
        Assert.Equal("", shown.Stderr);
        Assert.Equal(files, Directory.GetFiles(moved, "*", SearchOption.AllDirectories).Length);

        // A pack runs the backend it was built for: an environment that asks for another is one line.
        var other = Run(Path.Combine(moved, "nas"), work, new Dictionary<string, string> { ["NAS_TORCH_BACKEND"] = "system" }, "--help");
        Assert.Equal((1, "nas: this pack is built for the cpu backend, not NAS_TORCH_BACKEND=system: unset it, or use a pack built for it (deploy/pack OUT system)"),
            (other.ExitCode, other.Stderr.Trim()));
        // A system pack on a machine without a libtorch: one line, before anything runs.
        File.WriteAllText(Path.Combine(moved, "lib", "torch-backend"), "system\n");
        var noTorch = Run(Path.Combine(moved, "nas"), work, new Dictionary<string, string> { ["NAS_LIBTORCH_DIR"] = Path.Combine(dir.Path, "none") }, "--help");
        Assert.Equal((1, "nas: the system backend needs libtorch (with CUDA): set NAS_LIBTORCH_DIR to a folder with libtorch.so, or install PyTorch for python3"),
            (noTorch.ExitCode, noTorch.Stderr.Trim()));

        // A folder of other files is not overwritten.
        Directory.CreateDirectory(Path.Combine(dir.Path, "mine"));
        dir.File("mine/notes.txt", "mine");
        var refused = Run(Path.Combine(NasProcess.RepositoryRoot, "deploy", "pack"), dir.Path, null, Path.Combine(dir.Path, "mine"), "cpu");
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("holds other files", refused.Stderr);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(dir.Path, "mine", "notes.txt")));
        var backend = Run(Path.Combine(NasProcess.RepositoryRoot, "deploy", "pack"), dir.Path, null, Path.Combine(dir.Path, "other"), "gpu");
        Assert.Equal((2, "pack: the backend must be cpu, cuda or system, not 'gpu'"), (backend.ExitCode, backend.Stderr.Trim()));
    }
}
