using NasActors.Tensors;
using static TorchSharp.torch;

namespace NasActors.Training.Data;

/// <summary>Augmentation applied to training batches.</summary>
public sealed record Augmentation(int CropPadding, bool HorizontalFlip, int CutoutSize)
{
    public static readonly Augmentation None = new(0, false, 0);
}

/// <summary>
/// Normalised float batches of a dataset, cut from its copy on the device (<see cref="ImageDataset.On"/>):
/// the images never cross to the device one by one. Augmentation (random crop from a zero-padded
/// image, horizontal flip, cutout) runs on the device too; only its random draws come from a
/// seeded <see cref="Random"/> on the CPU (a few numbers per image), so a run is reproducible
/// from its seed and epoch on any device.
/// </summary>
public sealed class Batches(ImageDataset data, float[] mean, float[] std)
{
    public ImageDataset Data { get; } = data;

    public IEnumerable<(Tensor Images, Tensor Labels)> Epoch(int batchSize, Device device, Random? shuffle = null, Augmentation? augmentation = null)
    {
        var order = Enumerable.Range(0, Data.Count).ToArray();
        shuffle?.Shuffle(order);
        var stored = Data.On(device);
        for (var start = 0; start < order.Length; start += batchSize)
            yield return Batch(stored, order.AsSpan(start, Math.Min(batchSize, order.Length - start)), device, shuffle, augmentation ?? Augmentation.None);
    }

    private (Tensor Images, Tensor Labels) Batch(DeviceImages stored, ReadOnlySpan<int> indices, Device device, Random? rng, Augmentation aug)
    {
        // One scope per batch, closed before the batch is handed out (scopes are per thread and must nest).
        using var scope = NewDisposeScope();
        int n = indices.Length, c = Data.Channels, h = Data.Height, w = Data.Width;
        var index = tensor(indices.ToArray().Select(i => (long)i).ToArray(), device: device);
        var images = stored.Pixels.index_select(0, index);
        var labels = stored.Labels.index_select(0, index);

        int p = rng is null ? 0 : aug.CropPadding;
        var flip = rng is not null && aug.HorizontalFlip;
        var cutout = rng is not null && aug.CutoutSize > 0;
        bool[]? cut = null;
        if (p > 0 || flip || cutout)
        {
            // Per image, in this order: shift y, shift x, flip, cutout centre (y, x).
            var rows = new long[n * h];
            var cols = new long[n * w];
            cut = cutout ? new bool[n * h * w] : null;
            for (var i = 0; i < n; i++)
            {
                int dy = 0, dx = 0;
                if (p > 0)
                {
                    dy = rng!.Next(-p, p + 1);
                    dx = rng.Next(-p, p + 1);
                }
                var mirrored = flip && rng!.Next(2) == 1;
                for (var y = 0; y < h; y++) rows[i * h + y] = y + dy + p;
                for (var x = 0; x < w; x++) cols[i * w + x] = (mirrored ? w - 1 - x : x) + dx + p;
                if (cut is not null)
                {
                    int cy = rng!.Next(h), cx = rng.Next(w);
                    for (var y = 0; y < h; y++)
                        for (var x = 0; x < w; x++)
                            cut[(i * h + y) * w + x] = Math.Abs(y - cy) * 2 < aug.CutoutSize && Math.Abs(x - cx) * 2 < aug.CutoutSize;
                }
            }
            // Zero padding is black before normalisation, as in torchvision's RandomCrop.
            var padded = p > 0 ? nn.functional.pad(images, [p, p, p, p]) : images;
            var rowIndex = tensor(rows, [n, 1, h, 1], device: device).expand(n, c, h, w + 2 * p);
            var colIndex = tensor(cols, [n, 1, 1, w], device: device).expand(n, c, h, w);
            images = padded.gather(2, rowIndex).gather(3, colIndex);
        }

        var normalised = images.to_type(float32).div(Scalars.Byte255).sub(Channel(mean, device)).div(Channel(std, device));
        // Cutout zeroes a square of the normalised image (DeVries & Taylor 2017).
        if (cut is not null)
            normalised = normalised.masked_fill(tensor(cut, [n, 1, h, w], device: device), Scalars.Zero);
        return (normalised.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope());
    }

    private Tensor Channel(float[] values, Device device) => tensor(values, [1, Data.Channels, 1, 1], device: device);
}
