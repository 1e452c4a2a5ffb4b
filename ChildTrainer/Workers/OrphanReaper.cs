namespace NasActors.ChildTrainer.Workers;

/// <summary>
/// Exec commands of a nas process that was killed (kill -9 leaves no chance to stop them) keep
/// running, and on a GPU machine keep their device. Every command carries its owner's identity in
/// its environment (<see cref="Variable"/>: pid and start time, so a reused pid is never mistaken
/// for the owner); the next exec trainer on the machine kills every process whose owner is gone.
/// Linux only (/proc); elsewhere it does nothing.
/// </summary>
public static class OrphanReaper
{
    public const string Variable = "NAS_EXEC_OWNER";

    private const int SigKill = 9;

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    /// <summary>This process's identity, as its exec commands carry it.</summary>
    public static string Owner { get; } = $"{Environment.ProcessId}:{StartTime(Environment.ProcessId)}";

    /// <summary>Kills the processes left by exec commands whose nas process is gone; returns how many.</summary>
    public static int ReapOrphans()
    {
        if (!Directory.Exists("/proc")) return 0;
        var killed = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == Environment.ProcessId) continue;
            var owner = OwnerOf(pid);
            if (owner is null || owner == Owner || Alive(owner)) continue;
            if (kill(pid, SigKill) == 0) killed++;
        }
        return killed;
    }

    private static string? OwnerOf(int pid)
    {
        try
        {
            var prefix = Variable + "=";
            return File.ReadAllText($"/proc/{pid}/environ").Split('\0').FirstOrDefault(v => v.StartsWith(prefix, StringComparison.Ordinal))?[prefix.Length..];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // gone meanwhile, or another user's
        }
    }

    private static bool Alive(string owner)
    {
        var parts = owner.Split(':');
        return parts.Length == 2 && int.TryParse(parts[0], out var pid) && StartTime(pid) is { } start && start == parts[1];
    }

    /// <summary>Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot.</summary>
    private static string? StartTime(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[19];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentOutOfRangeException or IndexOutOfRangeException)
        {
            return null;
        }
    }
}
