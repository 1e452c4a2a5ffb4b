using System.Runtime.InteropServices;
using NasActors.Protocol;

namespace NasActors.Persistence;

/// <summary>
/// One writer per run folder: an exclusive <c>flock</c> on the folder itself, held for the life of
/// the process, so a killed process never leaves a stale lock and deleting a file cannot undo it.
/// <c>run.lock</c> only says who holds it, for the message the next writer gets. Readers never lock.
/// </summary>
public sealed class RunLock : IDisposable
{
    public const string FileName = "run.lock";
    // O_RDONLY | O_DIRECTORY | O_CLOEXEC: the lock lives on the open descriptor, and no child process
    // (an exec trainer's command) may inherit it, or it would outlive a killed nas.
    private const int ReadOnlyDirectory = 0x10000 | 0x80000;
    private const int ExclusiveNow = 2 | 4; // LOCK_EX | LOCK_NB

    private readonly int folder;
    private readonly string dir;
    private readonly bool created;

    private RunLock(int folder, string dir, bool created) => (this.folder, this.dir, this.created) = (folder, dir, created);

    [DllImport("libc", SetLastError = true)]
    private static extern int open(string path, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int flock(int fd, int operation);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);

    public static RunLock Acquire(string dir)
    {
        if (File.Exists(dir)) throw new InputException(RunInputs.Run, $"{dir} is a file, not a folder");
        var created = !Directory.Exists(dir);
        Directory.CreateDirectory(dir);
        var fd = open(dir, ReadOnlyDirectory);
        if (fd < 0) throw new IOException($"cannot open the run folder {dir} (error {Marshal.GetLastPInvokeError()})");
        var info = Path.Combine(dir, FileName);
        if (flock(fd, ExclusiveNow) != 0)
        {
            close(fd);
            var holder = File.Exists(info) ? File.ReadAllText(info).Trim() : "";
            throw new RunLockedException($"{dir} is in use by another nas process ({(holder.Length > 0 ? holder : "unknown")}); a run has one writer");
        }
        File.WriteAllText(info, Holder() + "\n");
        return new RunLock(fd, dir, created);
    }

    /// <summary>This process, as a run's writer is named to the next one.</summary>
    public static string Holder() => $"pid {Environment.ProcessId} on {Environment.MachineName}, since {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm:ss}Z";

    /// <summary>
    /// Whether the process named in <c>run.lock</c> still runs (a search writing the run): false
    /// when it has stopped, null when it is on another machine or the folder was never locked.
    /// Read without locking, so a reader never stands in a writer's way.
    /// </summary>
    public static bool? WriterAlive(string dir)
    {
        var info = Path.Combine(dir, FileName);
        if (!File.Exists(info)) return null;
        var m = System.Text.RegularExpressions.Regex.Match(File.ReadAllText(info), @"^pid (\d+) on (.+), since (\S+ \S+)Z");
        if (!m.Success || m.Groups[2].Value != Environment.MachineName) return null;
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(int.Parse(m.Groups[1].Value));
            var since = DateTime.SpecifyKind(DateTime.Parse(m.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture), DateTimeKind.Utc);
            // A reused pid belongs to a process started at another time.
            return Math.Abs((process.StartTime.ToUniversalTime() - since).TotalSeconds) < 60;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>
    /// Releases the run. A writer that stored nothing (a search refused before it began) leaves
    /// nothing behind: its <c>run.lock</c>, and the folder too if the lock made it. Removed while
    /// the lock is still held, so no other writer can be in the folder meanwhile.
    /// </summary>
    public void Dispose()
    {
        try
        {
            if (Directory.EnumerateFileSystemEntries(dir).All(e => Path.GetFileName(e) == FileName))
            {
                File.Delete(Path.Combine(dir, FileName));
                if (created) Directory.Delete(dir);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Tidying only: a folder that cannot be read or emptied stays as it is.
        }
        finally
        {
            close(folder);
        }
    }
}
