using System.Runtime.InteropServices;

namespace NasActors.Node.Hosting;

/// <summary>Another live process writes this run; the message names the folder and that process.</summary>
public sealed class RunLockedException(string message) : Exception(message);

/// <summary>
/// One writer per run folder: an OS record lock (POSIX <c>lockf</c>) on <c>run.lock</c>, held for
/// the life of the process, so a killed process never leaves a stale lock. The file also says who
/// holds it, for the message the next writer gets. Readers never take it.
/// </summary>
public sealed class RunLock : IDisposable
{
    public const string FileName = "run.lock";
    private const int TryLock = 2; // F_TLOCK: lock now or fail

    private readonly FileStream file;

    private RunLock(FileStream file) => this.file = file;

    [DllImport("libc", SetLastError = true)]
    private static extern int lockf(int fd, int command, long length);

    public static RunLock Acquire(string dir)
    {
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, FileName);
        // The record lock belongs to the process and ends when any of its handles on the file closes:
        // this process opens the file once, here, and keeps it open.
        var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite);
        if (lockf((int)file.SafeFileHandle.DangerousGetHandle(), TryLock, 0) != 0)
        {
            using var reader = new StreamReader(file);
            var holder = reader.ReadToEnd().Trim();
            throw new RunLockedException($"{dir} is in use by another nas process ({(holder.Length > 0 ? holder : "unknown")}); a run has one writer");
        }
        file.SetLength(0);
        using (var writer = new StreamWriter(file, leaveOpen: true))
            writer.Write($"pid {Environment.ProcessId} on {Environment.MachineName}, since {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm:ss}Z\n");
        file.Flush(flushToDisk: true);
        return new RunLock(file);
    }

    public void Dispose() => file.Dispose();
}
