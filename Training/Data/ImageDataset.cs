using System.Collections.Concurrent;
using static TorchSharp.torch;

namespace NasActors.Training.Data;

/// <summary>A data file that cannot be used; the message names the file and what is wrong.</summary>
public sealed class DatasetFormatException(string file, string problem) : Exception($"{file}: {problem}")
{
    public string File { get; } = file;
}

/// <summary>
/// Labelled images in memory, pixels as bytes in N x C x H x W order (channels first, as CIFAR
/// stores them and as the networks take them), labels as 16-bit numbers (up to 65,536 classes:
/// ImageNet's thousand and more). Each device it is trained on gets one copy of the
/// bytes (<see cref="On"/>), kept as long as the dataset: every child and every worker on that
/// device cuts its batches from it.
/// </summary>
public sealed class ImageDataset
{
    private readonly ConcurrentDictionary<string, Lazy<DeviceImages>> copies = new();
    private readonly Lazy<(float[], float[])> statistics;

    /// <param name="classNames">the classes' names in label order (default: the labels themselves)</param>
    public ImageDataset(string name, int channels, int height, int width, int classes, byte[] pixels, ushort[] labels, IReadOnlyList<string>? classNames = null)
    {
        if (classes is < 1 or > MaxClasses)
            throw new DatasetFormatException(name, $"{classes} classes; nas keeps a label in 16 bits, 1 to {MaxClasses} classes");
        if (classNames is not null && classNames.Count != classes)
            throw new DatasetFormatException(name, $"{classNames.Count} class names for {classes} classes");
        var imageSize = channels * height * width;
        if (pixels.Length != labels.Length * imageSize)
            throw new DatasetFormatException(name, $"{pixels.Length} pixel bytes do not hold {labels.Length} images of {channels}x{height}x{width}");
        var bad = Array.FindIndex(labels, l => l >= classes);
        if (bad >= 0)
            throw new DatasetFormatException(name, $"label {labels[bad]} of image {bad} is not below {classes} classes");
        (Name, Channels, Height, Width, Classes, Pixels, Labels) = (name, channels, height, width, classes, pixels, labels);
        ClassNames = classNames ?? [.. Enumerable.Range(0, classes).Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture))];
        statistics = new(ComputeStatistics);
    }

    /// <summary>The most classes a dataset can have: a label is 16 bits.</summary>
    public const int MaxClasses = ushort.MaxValue + 1;

    public string Name { get; }
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public int Classes { get; }
    public IReadOnlyList<string> ClassNames { get; }
    public byte[] Pixels { get; }
    public ushort[] Labels { get; }
    public int Count => Labels.Length;
    public int ImageBytes => Channels * Height * Width;

    public ImageDataset Subset(IReadOnlyList<int> indices, string name)
    {
        var pixels = new byte[indices.Count * ImageBytes];
        var labels = new ushort[indices.Count];
        for (var i = 0; i < indices.Count; i++)
        {
            Array.Copy(Pixels, (long)indices[i] * ImageBytes, pixels, (long)i * ImageBytes, ImageBytes);
            labels[i] = Labels[indices[i]];
        }
        return new ImageDataset(name, Channels, Height, Width, Classes, pixels, labels, ClassNames);
    }

    /// <summary>The dataset's bytes on <paramref name="device"/>, copied there once.</summary>
    public DeviceImages On(Device device) => copies.GetOrAdd(device.ToString(), _ => new(() => new DeviceImages(this, device))).Value;

    /// <summary>Per-channel mean and standard deviation of the pixels scaled to [0, 1] (computed once).</summary>
    public (float[] Mean, float[] Std) ChannelStatistics() => statistics.Value;

    private (float[], float[]) ComputeStatistics()
    {
        var mean = new float[Channels];
        var std = new float[Channels];
        var plane = Height * Width;
        for (var c = 0; c < Channels; c++)
        {
            double sum = 0, sumSq = 0;
            for (var n = 0; n < Count; n++)
            {
                var offset = (long)n * ImageBytes + (long)c * plane;
                for (var p = 0; p < plane; p++)
                {
                    double v = Pixels[offset + p] / 255.0;
                    sum += v;
                    sumSq += v * v;
                }
            }
            var count = (double)Count * plane;
            mean[c] = (float)(sum / count);
            std[c] = (float)Math.Sqrt(Math.Max(sumSq / count - mean[c] * (double)mean[c], 1e-12));
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
        Pixels = tensor(data.Pixels, [data.Count, data.Channels, data.Height, data.Width], device: device).DetachFromDisposeScope();
        Labels = tensor(data.Labels.Select(l => (long)l).ToArray(), device: device).DetachFromDisposeScope();
    }

    public Tensor Pixels { get; }
    public Tensor Labels { get; }
}
