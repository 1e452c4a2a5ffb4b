using System.Collections.Concurrent;
using static TorchSharp.torch;

namespace NasActors.Training.Data;

/// <summary>A data file that cannot be used; the message names the file and what is wrong.</summary>
public sealed class DatasetFormatException(string file, string problem) : Exception($"{file}: {problem}")
{
    public string File { get; } = file;
}

/// <summary>
/// Labelled images: pixels as bytes in C x H x W order per image (channels first, as CIFAR stores
/// them and as the networks take them), in memory or in a file (<see cref="ImageRecords"/>);
/// labels as 16-bit numbers (up to 65,536 classes: ImageNet's thousand and more). A subset is a
/// view of the same records, never a copy. A split small enough (<see cref="Streamed"/>) gets one
/// copy of its bytes on each device it is trained on (<see cref="On"/>), kept as long as the
/// dataset; a larger one is read batch by batch (<see cref="BatchReader"/>).
/// </summary>
public sealed class ImageDataset
{
    private readonly ConcurrentDictionary<string, Lazy<DeviceImages>> copies = new();
    private readonly Lazy<(float[], float[])> statistics;
    private readonly ImageRecords records;
    // The records this dataset's images are, in order; null: all of them.
    private readonly int[]? index;

    /// <param name="classNames">the classes' names in label order (default: the labels themselves)</param>
    public ImageDataset(string name, int channels, int height, int width, int classes, byte[] pixels, ushort[] labels, IReadOnlyList<string>? classNames = null)
        : this(name, channels, height, width, classes, CheckedRecords(name, pixels, labels.Length, channels * height * width), null, labels, classNames)
    {
    }

    /// <param name="index">which records, in order (null: every record)</param>
    public ImageDataset(string name, int channels, int height, int width, int classes, ImageRecords records, int[]? index, ushort[] labels, IReadOnlyList<string>? classNames = null)
    {
        if (classes is < 1 or > MaxClasses)
            throw new DatasetFormatException(name, $"{classes} classes; nas keeps a label in 16 bits, 1 to {MaxClasses} classes");
        if (classNames is not null && classNames.Count != classes)
            throw new DatasetFormatException(name, $"{classNames.Count} class names for {classes} classes");
        if (records.ImageBytes != channels * height * width)
            throw new DatasetFormatException(name, $"records of {records.ImageBytes} bytes are not images of {channels}x{height}x{width}");
        if ((index?.Length ?? records.Count) != labels.Length)
            throw new DatasetFormatException(name, $"{index?.Length ?? records.Count} images for {labels.Length} labels");
        if (index is not null && index.Any(i => i < 0 || i >= records.Count))
            throw new DatasetFormatException(name, $"an image index outside its {records.Count} records");
        var bad = Array.FindIndex(labels, l => l >= classes);
        if (bad >= 0)
            throw new DatasetFormatException(name, $"label {labels[bad]} of image {bad} is not below {classes} classes");
        (Name, Channels, Height, Width, Classes, this.records, this.index, Labels) = (name, channels, height, width, classes, records, index, labels);
        ClassNames = classNames ?? [.. Enumerable.Range(0, classes).Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture))];
        statistics = new(ComputeStatistics);
    }

    private static MemoryRecords CheckedRecords(string name, byte[] pixels, int count, int imageBytes) =>
        pixels.Length == (long)count * imageBytes
            ? new MemoryRecords(pixels, imageBytes)
            : throw new DatasetFormatException(name, $"{pixels.Length} pixel bytes do not hold {count} images of {imageBytes} bytes");

    /// <summary>The most classes a dataset can have: a label is 16 bits.</summary>
    public const int MaxClasses = ushort.MaxValue + 1;

    /// <summary>Names the size (MiB of pixels) above which a split is streamed, not copied whole to its device.</summary>
    public const string StreamAboveVariable = "NAS_STREAM_ABOVE_MB";

    /// <summary>The default of <see cref="StreamAboveVariable"/>: a split of more than 1 GiB of pixels is streamed.</summary>
    public const long DefaultStreamAboveMb = 1024;

    public string Name { get; }
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public int Classes { get; }
    public IReadOnlyList<string> ClassNames { get; }
    public ushort[] Labels { get; }
    public int Count => Labels.Length;
    public int ImageBytes => Channels * Height * Width;
    public long PixelBytes => (long)Count * ImageBytes;

    /// <summary>Where the images are read from (a file, for a cached image folder).</summary>
    public ImageRecords Records => records;

    /// <summary>
    /// Whether training reads this split batch by batch instead of copying it whole to the device:
    /// above <see cref="StreamAboveVariable"/> MiB of pixels (default <see cref="DefaultStreamAboveMb"/>; 0 streams every split).
    /// </summary>
    public bool Streamed => PixelBytes > StreamAboveBytes();

    /// <summary>The split size above which splits are streamed (read from the environment each time: tests and benchmarks set it).</summary>
    public static long StreamAboveBytes()
    {
        var text = Environment.GetEnvironmentVariable(StreamAboveVariable);
        if (string.IsNullOrWhiteSpace(text)) return DefaultStreamAboveMb << 20;
        return long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var mb) && mb <= long.MaxValue >> 20
            ? mb << 20
            : throw new Protocol.InputException(StreamAboveVariable, $"expected a whole number of MiB (0 streams every split), got \"{text}\"");
    }

    /// <summary>The pixels of image <paramref name="i"/> into <paramref name="target"/>.</summary>
    public void ReadImage(int i, Span<byte> target) => records.Read(index?[i] ?? i, target[..ImageBytes]);

    /// <summary>Images <paramref name="which"/>, in that order, into <paramref name="target"/>.</summary>
    public void ReadImages(ReadOnlySpan<int> which, Span<byte> target)
    {
        for (var k = 0; k < which.Length; k++)
            ReadImage(which[k], target.Slice(k * ImageBytes, ImageBytes));
    }

    /// <summary>Images <paramref name="first"/> to <paramref name="first"/> + n - 1 (n fills <paramref name="target"/>), in one read where they lie together.</summary>
    public void ReadRange(int first, Span<byte> target)
    {
        if (index is null)
        {
            records.Read(first, target);
            return;
        }
        var n = target.Length / ImageBytes;
        for (var k = 0; k < n; k++)
            ReadImage(first + k, target.Slice(k * ImageBytes, ImageBytes));
    }

    /// <summary>Every pixel in one array (a copy unless the dataset is one whole array in memory; at most 2 GiB).</summary>
    public byte[] ReadAll()
    {
        if (WholeArray is { } pixels) return pixels;
        if (PixelBytes > Array.MaxLength)
            throw new DatasetFormatException(Name, $"{PixelBytes:N0} bytes of pixels do not fit in one array");
        var all = new byte[PixelBytes];
        ReadRange(0, all);
        return all;
    }

    /// <summary>The array that holds exactly this dataset's pixels, where there is one.</summary>
    internal byte[]? WholeArray => index is null && records is MemoryRecords memory ? memory.Pixels : null;

    /// <summary>The images at <paramref name="indices"/>: a view of the same records.</summary>
    public ImageDataset Subset(IReadOnlyList<int> indices, string name)
    {
        var which = new int[indices.Count];
        var labels = new ushort[indices.Count];
        for (var i = 0; i < which.Length; i++)
        {
            which[i] = index?[indices[i]] ?? indices[i];
            labels[i] = Labels[indices[i]];
        }
        return new ImageDataset(name, Channels, Height, Width, Classes, records, which, labels, ClassNames);
    }

    /// <summary>The dataset's bytes on <paramref name="device"/>, copied there once.</summary>
    public DeviceImages On(Device device)
    {
        var key = device.ToString();
        try
        {
            return copies.GetOrAdd(key, _ => new(() => new DeviceImages(this, device))).Value;
        }
        catch
        {
            // Not remembered: a copy that failed (out of memory, a read error) is tried again by the next training.
            copies.TryRemove(key, out _);
            throw;
        }
    }

    /// <summary>Per-channel mean and standard deviation of the pixels scaled to [0, 1] (computed once).</summary>
    public (float[] Mean, float[] Std) ChannelStatistics() => statistics.Value;

    // Images read per chunk when the whole dataset is passed over (statistics, a device copy).
    internal int ChunkImages => Math.Max(1, (16 << 20) / ImageBytes);

    private (float[], float[]) ComputeStatistics()
    {
        // Exact integer sums: the same figures whatever the chunking and the threads.
        var sums = new long[Channels];
        var squares = new long[Channels];
        var plane = Height * Width;
        var chunks = (Count + ChunkImages - 1) / ChunkImages;
        Parallel.For(0, chunks, () => (new long[Channels], new long[Channels], new byte[(long)ChunkImages * ImageBytes]), (k, _, local) =>
        {
            var first = k * ChunkImages;
            var n = Math.Min(ChunkImages, Count - first);
            var bytes = local.Item3.AsSpan(0, n * ImageBytes);
            ReadRange(first, bytes);
            for (var i = 0; i < n; i++)
                for (var c = 0; c < Channels; c++)
                {
                    long s = 0, q = 0;
                    foreach (var v in bytes.Slice(i * ImageBytes + c * plane, plane))
                    {
                        s += v;
                        q += v * v;
                    }
                    local.Item1[c] += s;
                    local.Item2[c] += q;
                }
            return local;
        }, local =>
        {
            lock (sums)
                for (var c = 0; c < Channels; c++)
                {
                    sums[c] += local.Item1[c];
                    squares[c] += local.Item2[c];
                }
        });
        var mean = new float[Channels];
        var std = new float[Channels];
        var count = (double)Count * plane;
        for (var c = 0; c < Channels; c++)
        {
            var m = sums[c] / 255.0 / count;
            mean[c] = (float)m;
            std[c] = (float)Math.Sqrt(Math.Max(squares[c] / (255.0 * 255.0) / count - m * m, 1e-12));
        }
        return (mean, std);
    }
}

/// <summary>A dataset's pixel bytes (uint8, N x C x H x W) and labels (int64) on one device.</summary>
public sealed class DeviceImages
{
    public DeviceImages(ImageDataset data, Device device)
    {
        // Lives with its dataset: out of any dispose scope the first batch happens to be cut in.
        long[] shape = [data.Count, data.Channels, data.Height, data.Width];
        Pixels = (data.WholeArray is { } pixels ? tensor(pixels, shape, device: device) : Gathered(data, device, shape)).DetachFromDisposeScope();
        Labels = tensor(data.Labels.Select(l => (long)l).ToArray(), device: device).DetachFromDisposeScope();
    }

    public Tensor Pixels { get; }
    public Tensor Labels { get; }

    // A view or a file, copied in chunks: no array as large as the split on the way.
    private static Tensor Gathered(ImageDataset data, Device device, long[] shape)
    {
        var all = empty(shape, uint8, device: device);
        try
        {
            var chunk = data.ChunkImages;
            var buffer = new byte[(long)chunk * data.ImageBytes];
            for (var first = 0; first < data.Count; first += chunk)
            {
                using var scope = NewDisposeScope();
                var n = Math.Min(chunk, data.Count - first);
                var bytes = n == chunk ? buffer : new byte[(long)n * data.ImageBytes];
                data.ReadRange(first, bytes);
                all.narrow(0, first, n).copy_(tensor(bytes, [n, data.Channels, data.Height, data.Width]));
            }
            return all;
        }
        catch
        {
            all.Dispose();
            throw;
        }
    }
}
