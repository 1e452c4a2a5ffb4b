using Microsoft.Win32.SafeHandles;

namespace NasActors.Training.Data;

/// <summary>
/// Where a dataset's images are: records of <see cref="ImageBytes"/> bytes each (C x H x W),
/// read by index. Safe to read from several threads at once.
/// </summary>
public abstract class ImageRecords(long count, int imageBytes)
{
    public long Count { get; } = count;
    public int ImageBytes { get; } = imageBytes;

    /// <summary>Images <paramref name="first"/> to <paramref name="first"/> + n - 1 into <paramref name="target"/> (n x <see cref="ImageBytes"/> bytes).</summary>
    public abstract void Read(long first, Span<byte> target);
}

/// <summary>Images in one array in memory (datasets read whole: MNIST, CIFAR-10, a small decoded folder).</summary>
public sealed class MemoryRecords(byte[] pixels, int imageBytes) : ImageRecords(pixels.Length / imageBytes, imageBytes)
{
    public byte[] Pixels { get; } = pixels;

    public override void Read(long first, Span<byte> target) => Pixels.AsSpan(checked((int)(first * ImageBytes)), target.Length).CopyTo(target);
}

/// <summary>
/// Images in a file, read where they lie (positional reads): the kernel's page cache holds what
/// was read, and can drop it; the process's own memory does not grow with the file. The handle
/// stays open as long as the records are used, so a cache file replaced meanwhile is still read whole.
/// </summary>
public sealed class FileRecords(SafeFileHandle file, string path, long offset, long count, int imageBytes) : ImageRecords(count, imageBytes)
{
    public string Path { get; } = path;

    public override void Read(long first, Span<byte> target)
    {
        var position = offset + first * ImageBytes;
        while (target.Length > 0)
        {
            int read;
            try
            {
                read = RandomAccess.Read(file, target, position);
            }
            catch (IOException e)
            {
                // A failing disk under a training: the dataset's problem, named, not the worker's.
                throw new DatasetFormatException(Path, $"cannot be read at byte {position:N0}: {e.Message}");
            }
            if (read == 0) throw new DatasetFormatException(Path, $"cut short at byte {position:N0} (the file changed while it was read)");
            target = target[read..];
            position += read;
        }
    }
}
