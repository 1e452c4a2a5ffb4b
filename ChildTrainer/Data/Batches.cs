using static TorchSharp.torch;

namespace NasActors.ChildTrainer.Data;

/// <summary>Augmentation applied to training batches.</summary>
public sealed record Augmentation(int CropPadding, bool HorizontalFlip, int CutoutSize)
{
    public static readonly Augmentation None = new(0, false, 0);
}

/// <summary>
/// Turns a dataset into normalised float batches on a device. Augmentation (random crop from a
/// zero-padded image, horizontal flip, cutout) runs on the CPU from a seeded <see cref="Random"/>,
/// so a run is reproducible from its seed and epoch.
/// </summary>
public sealed class Batches(ImageDataset data, float[] mean, float[] std)
{
    public ImageDataset Data { get; } = data;

    public IEnumerable<(Tensor Images, Tensor Labels)> Epoch(int batchSize, Device device, Random? shuffle = null, Augmentation? augmentation = null)
    {
        var order = Enumerable.Range(0, Data.Count).ToArray();
        shuffle?.Shuffle(order);
        for (var start = 0; start < order.Length; start += batchSize)
        {
            var count = Math.Min(batchSize, order.Length - start);
            var pixels = new float[count * Data.ImageBytes];
            var labels = new long[count];
            for (var i = 0; i < count; i++)
            {
                labels[i] = Data.Labels[order[start + i]];
                Fill(pixels.AsSpan(i * Data.ImageBytes, Data.ImageBytes), order[start + i], augmentation ?? Augmentation.None, shuffle);
            }
            yield return (
                tensor(pixels, [count, Data.Channels, Data.Height, Data.Width], device: device),
                tensor(labels, device: device));
        }
    }

    private void Fill(Span<float> target, int index, Augmentation aug, Random? rng)
    {
        int h = Data.Height, w = Data.Width, plane = h * w;
        int dy = 0, dx = 0;
        var flip = false;
        if (rng is not null && aug.CropPadding > 0)
        {
            dy = rng.Next(-aug.CropPadding, aug.CropPadding + 1);
            dx = rng.Next(-aug.CropPadding, aug.CropPadding + 1);
        }
        if (rng is not null && aug.HorizontalFlip) flip = rng.Next(2) == 1;
        int cutY = -1, cutX = -1;
        if (rng is not null && aug.CutoutSize > 0)
        {
            cutY = rng.Next(h);
            cutX = rng.Next(w);
        }
        var source = Data.Pixels.AsSpan(index * Data.ImageBytes, Data.ImageBytes);
        for (var c = 0; c < Data.Channels; c++)
        {
            // Zero padding is black before normalisation, as in torchvision's RandomCrop.
            var zero = (0f - mean[c]) / std[c];
            for (var y = 0; y < h; y++)
            {
                for (var x = 0; x < w; x++)
                {
                    var sy = y + dy;
                    var sx = (flip ? w - 1 - x : x) + dx;
                    var inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
                    var value = inside ? (source[c * plane + sy * w + sx] / 255f - mean[c]) / std[c] : zero;
                    // Cutout zeroes a square of the normalised image (DeVries & Taylor 2017).
                    if (cutY >= 0 && Math.Abs(y - cutY) * 2 < aug.CutoutSize && Math.Abs(x - cutX) * 2 < aug.CutoutSize)
                        value = 0f;
                    target[c * plane + y * w + x] = value;
                }
            }
        }
    }
}
