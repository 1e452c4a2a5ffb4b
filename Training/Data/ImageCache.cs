using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace NasActors.Training.Data;

/// <summary>
/// The decoded images of an image folder in one file of fixed-size records, read where they lie
/// (<see cref="FileRecords"/>): magic, a header (the folder's key, the size, the classes, each
/// split's name and count), every label (16 bits, little-endian), every image (3 x S x S bytes,
/// the training split's then the test split's), a SHA-256 of all before it. Written whole or not
/// at all (a temporary file, renamed) by one process per machine at a time (<see cref="Lock"/>);
/// one that does not check out is never read (it is decoded again).
/// </summary>
public static class ImageCache
{
    // 3: records read in place (labels first, then the pixels of both splits); 2 kept each split in one array.
    private static readonly byte[] Magic = "NASIMG3\n"u8.ToArray();
    private const int HashBytes = 32;
    // What .NET reports when another process holds the lock: flock's EWOULDBLOCK on Linux (the errno is the HResult), a sharing violation elsewhere.
    private static bool Held(IOException e) => e.HResult is 11 or unchecked((int)0x80070020);

    /// <summary>A split as the cache keeps it: its name and labels (its images are the records).</summary>
    public sealed record Split(string Name, ushort[] Labels);

    // The caches this process has checked, by path, length and time: a file is hashed once per process, not once per load.
    private static readonly ConcurrentDictionary<(string Path, long Length, long Written), DatasetPair> Checked = new();

    /// <summary>
    /// The cached images, checked against their SHA-256 (once per process and file; not where
    /// <paramref name="written"/>: this process hashed it as it wrote it); null where there is none
    /// or it is unusable.
    /// </summary>
    public static DatasetPair? Open(string file, string key, int size, IReadOnlyList<string> classes, bool written = false)
    {
        if (!File.Exists(file)) return null;
        try
        {
            var handle = File.OpenHandle(file, FileMode.Open, FileAccess.Read, FileShare.Read);
            try
            {
                var identity = (Path.GetFullPath(file), RandomAccess.GetLength(handle), File.GetLastWriteTimeUtc(handle).Ticks);
                if (Checked.TryGetValue(identity, out var known))
                {
                    handle.Dispose();
                    return known;
                }
                var pair = Read(handle, file, key, size, classes, check: !written);
                if (pair is null) handle.Dispose();
                else Checked[identity] = pair;
                return pair;
            }
            catch
            {
                handle.Dispose();
                throw;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or EndOfStreamException or InvalidDataException or DatasetFormatException or ArgumentException or OverflowException)
        {
            return null;
        }
    }

    private static DatasetPair? Read(Microsoft.Win32.SafeHandles.SafeFileHandle handle, string file, string key, int size, IReadOnlyList<string> classes, bool check)
    {
        var length = RandomAccess.GetLength(handle);
        // The whole file is hashed first: a flipped bit anywhere costs a decode, never a wrong pixel.
        if (length < Magic.Length + 4 + HashBytes || (check && !Intact(handle, length))) return null;
        var start = new byte[Magic.Length + 4];
        if (RandomAccess.Read(handle, start, 0) != start.Length || !start.AsSpan(0, Magic.Length).SequenceEqual(Magic)) return null;
        var headerLength = BitConverter.ToInt32(start, Magic.Length);
        if (headerLength < 0 || headerLength > length - start.Length) return null;
        var headerBytes = new byte[headerLength];
        if (RandomAccess.Read(handle, headerBytes, start.Length) != headerLength) return null;
        using var header = new BinaryReader(new MemoryStream(headerBytes), Encoding.UTF8);
        if (header.ReadString() != key || header.ReadInt32() != size || header.ReadInt32() != classes.Count) return null;
        foreach (var c in classes)
            if (header.ReadString() != c) return null;
        var splits = new (string Name, int Count)[2];
        for (var i = 0; i < splits.Length; i++)
        {
            splits[i] = (header.ReadString(), header.ReadInt32());
            if (splits[i].Count < 0) return null;
        }
        var imageBytes = 3 * size * size;
        var labelsAt = Magic.Length + 4L + headerLength;
        var pixelsAt = labelsAt + 2L * splits.Sum(s => (long)s.Count);
        if (pixelsAt + imageBytes * splits.Sum(s => (long)s.Count) + HashBytes != length) return null;

        var parts = new ImageDataset[2];
        long first = 0;
        for (var i = 0; i < parts.Length; i++)
        {
            var labels = new ushort[splits[i].Count];
            var bytes = new byte[2L * labels.Length];
            RandomAccess.Read(handle, bytes, labelsAt + 2 * first);
            for (var j = 0; j < labels.Length; j++) labels[j] = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(2 * j));
            var records = new FileRecords(handle, file, pixelsAt + first * imageBytes, labels.Length, imageBytes);
            parts[i] = new ImageDataset(splits[i].Name, 3, size, size, classes.Count, records, null, labels, classes);
            first += labels.Length;
        }
        return new DatasetPair(parts[0], parts[1], HorizontalFlip: true);
    }

    /// <summary>Whether <paramref name="file"/> ends with the SHA-256 of what it holds: the check each process makes of a cache once.</summary>
    public static bool Intact(string file)
    {
        using var handle = File.OpenHandle(file, FileMode.Open, FileAccess.Read, FileShare.Read);
        return Intact(handle, RandomAccess.GetLength(handle));
    }

    private static bool Intact(Microsoft.Win32.SafeHandles.SafeFileHandle handle, long length)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        for (long at = 0; at < length - HashBytes;)
        {
            var n = RandomAccess.Read(handle, buffer.AsSpan(0, (int)Math.Min(buffer.Length, length - HashBytes - at)), at);
            if (n == 0) return false;
            hash.AppendData(buffer, 0, n);
            at += n;
        }
        var stored = new byte[HashBytes];
        return RandomAccess.Read(handle, stored, length - HashBytes) == HashBytes && stored.AsSpan().SequenceEqual(hash.GetHashAndReset());
    }

    /// <summary>
    /// Writes a cache whose images <paramref name="decode"/> fills, chunk by chunk in order
    /// (split, first image, images, the array to fill from its start): memory holds one chunk, never a
    /// split. Into a temporary file of its own, renamed when whole; on any failure the temporary
    /// file is deleted and the failure thrown.
    /// </summary>
    public static void Write(string file, string key, int size, IReadOnlyList<string> classes, IReadOnlyList<Split> splits, Action<int, int, int, byte[]> decode)
    {
        var temp = $"{file}.{Guid.NewGuid():N}.tmp";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            var header = new MemoryStream();
            using (var w = new BinaryWriter(header, Encoding.UTF8, leaveOpen: true))
            {
                w.Write(key);
                w.Write(size);
                w.Write(classes.Count);
                foreach (var c in classes) w.Write(c);
                foreach (var s in splits)
                {
                    w.Write(s.Name);
                    w.Write(s.Labels.Length);
                }
            }
            var imageBytes = 3 * size * size;
            var images = splits.Sum(s => (long)s.Labels.Length);
            // The whole size reserved first (fallocate, the length unchanged): a disk without room says so now, not after hours of decoding.
            var options = new FileStreamOptions
            {
                Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 1 << 20,
                PreallocationSize = Magic.Length + 4 + header.Length + images * (2 + imageBytes) + HashBytes,
            };
            using (var stream = new FileStream(temp, options))
            using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
            {
                void Put(ReadOnlySpan<byte> bytes)
                {
                    stream.Write(bytes);
                    hash.AppendData(bytes);
                }

                Put(Magic);
                Put(BitConverter.GetBytes((int)header.Length));
                Put(header.ToArray());
                foreach (var s in splits)
                {
                    var labels = new byte[2 * s.Labels.Length];
                    for (var j = 0; j < s.Labels.Length; j++) BinaryPrimitives.WriteUInt16LittleEndian(labels.AsSpan(2 * j), s.Labels[j]);
                    Put(labels);
                }
                var chunk = Math.Max(1, (64 << 20) / imageBytes);
                var pixels = new byte[(long)chunk * imageBytes];
                for (var i = 0; i < splits.Count; i++)
                    for (var first = 0; first < splits[i].Labels.Length; first += chunk)
                    {
                        var count = Math.Min(chunk, splits[i].Labels.Length - first);
                        decode(i, first, count, pixels);
                        Put(pixels.AsSpan(0, count * imageBytes));
                    }
                stream.Write(hash.GetHashAndReset());
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, file, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>
    /// Holds the machine-wide lock on <paramref name="file"/>'s cache until disposed, waiting for
    /// whichever process holds it (it is decoding the same folder): an advisory lock on a file under
    /// <c>locks/</c>, which the kernel releases when its holder dies, so a crash blocks no one.
    /// Temporary files a crashed holder left are deleted once the lock is held: this cache's, and
    /// any other cache's whose lock is free (a folder changed since a decode was killed).
    /// </summary>
    public static IDisposable Lock(string file, Action waiting)
    {
        var said = false;
        while (true)
        {
            if (TryLock(file) is { } held)
            {
                foreach (var stale in Directory.GetFiles(Path.GetDirectoryName(file)!, "*.nasimg.*.tmp"))
                {
                    var cache = stale[..(stale.IndexOf(".nasimg.", StringComparison.Ordinal) + ".nasimg".Length)];
                    using var other = cache == file ? null : TryLock(cache);
                    if (cache != file && other is null) continue;
                    try
                    {
                        File.Delete(stale);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        // Left for the next holder: the lock is held either way.
                    }
                }
                return held;
            }
            if (!said) waiting();
            said = true;
            Thread.Sleep(200);
        }
    }

    /// <summary>The lock on <paramref name="file"/>'s cache if no other process holds it, else null.</summary>
    private static FileStream? TryLock(string file)
    {
        var dir = Path.Combine(Path.GetDirectoryName(file)!, "locks");
        Directory.CreateDirectory(dir);
        try
        {
            // FileShare.None takes an exclusive flock on Linux; while another process holds it, an IOException.
            return new FileStream(Path.Combine(dir, Path.GetFileName(file) + ".lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (Held(e))
        {
            return null;
        }
    }
}
