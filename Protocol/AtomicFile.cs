namespace NasActors.Protocol;

/// <summary>
/// Files replaced whole or not at all: written beside the target under a temporary name, flushed
/// to disk, then renamed over it. A full disk, a kill or an unwritable place leaves the old file as
/// it was (and no temporary file behind, unless the process was killed).
/// </summary>
public static class AtomicFile
{
    public static void WriteAllText(string path, string text) =>
        Write(path, temp =>
        {
            using var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write);
            using (var writer = new StreamWriter(stream, leaveOpen: true)) writer.Write(text);
            stream.Flush(flushToDisk: true);
        });

    /// <summary>Calls <paramref name="writeTemp"/> with the temporary path to fill, then puts it in place.</summary>
    public static void Write(string path, Action<string> writeTemp)
    {
        var full = Path.GetFullPath(path);
        var temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        try
        {
            writeTemp(temp);
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            // Named as the user gave it: the temporary name is ours.
            throw new IOException($"cannot write {path}: {e.Message.Replace(temp, full, StringComparison.Ordinal)}", e);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    private static void TryDelete(string temp)
    {
        try
        {
            File.Delete(temp);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Its folder is gone or unwritable: there is no temporary file to remove.
        }
    }
}
