using NasActors.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace NasActors.Training.Data;

/// <summary>How training batches are varied: chosen by name (<c>--augment</c>) or, with auto, by image size.</summary>
public enum AugmentKind
{
    /// <summary><see cref="ImageNet"/> from <see cref="Augmentation.ImageNetFrom"/> pixels up, else <see cref="Cifar"/>.</summary>
    Auto,

    /// <summary>Random crop from the image zero-padded by an eighth of its side (4 px at 32), horizontal flip where the dataset allows.</summary>
    Cifar,

    /// <summary>torchvision's ImageNet recipe: RandomResizedCrop (area 8-100%, aspect 3/4-4/3) back to the image's size, horizontal flip.</summary>
    ImageNet,

    /// <summary>The images as they are.</summary>
    None,
}

/// <summary>Augmentation applied to training batches.</summary>
public sealed record Augmentation(int CropPadding, bool HorizontalFlip, int CutoutSize)
{
    public static readonly Augmentation None = new(0, false, 0);

    /// <summary>
    /// The image size from which auto means ImageNet's recipe: below it the smallest crop the recipe
    /// takes (8% of the area) is under 32 pixels a side, and the padded crop of CIFAR suits better.
    /// </summary>
    public const int ImageNetFrom = 112;

    public const string Help = "auto (imagenet from 112 px, else cifar), cifar (padded random crop, flip), imagenet (RandomResizedCrop 8-100%, flip) or none";

    /// <summary>Random resized crops (torchvision's RandomResizedCrop with its ImageNet defaults) instead of padded crops.</summary>
    public bool ResizedCrop { get; init; }

    public static AugmentKind Parse(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        null or "" or "auto" => AugmentKind.Auto,
        "cifar" => AugmentKind.Cifar,
        "imagenet" => AugmentKind.ImageNet,
        "none" => AugmentKind.None,
        _ => throw new Protocol.InputException("--augment", $"expected {Help}, got \"{text}\""),
    };

    /// <summary>The name <see cref="Parse"/> reads back (null for auto: the stored default).</summary>
    public static string? Name(AugmentKind kind) => kind == AugmentKind.Auto ? null : kind.ToString().ToLowerInvariant();

    /// <summary>What <paramref name="kind"/> means for a dataset's training split.</summary>
    public static Augmentation For(AugmentKind kind, DataSplits data, int cutoutSize)
    {
        if (kind == AugmentKind.Auto) kind = data.Train.Height >= ImageNetFrom ? AugmentKind.ImageNet : AugmentKind.Cifar;
        return kind switch
        {
            AugmentKind.Cifar => new Augmentation(data.CropPadding, data.HorizontalFlip, cutoutSize),
            AugmentKind.ImageNet => new Augmentation(0, data.HorizontalFlip, cutoutSize) { ResizedCrop = true },
            _ => new Augmentation(0, false, cutoutSize),
        };
    }
}

/// <summary>
/// Normalised float batches of a dataset. A small split is cut from its copy on the device
/// (<see cref="ImageDataset.On"/>); a streamed one is read a few batches ahead by a
/// <see cref="BatchReader"/> and copied to the device as uint8. Either way augmentation (padded
/// or resized random crop, horizontal flip, cutout) runs on the device; only its random draws come
/// from a seeded <see cref="Random"/> on the CPU (a few numbers per image), so a run is
/// reproducible from its seed and epoch on any device, streamed or not.
/// </summary>
/// <param name="streamed">whether to stream (null: as <see cref="ImageDataset.Streamed"/> decides by size)</param>
public sealed class Batches(ImageDataset data, float[] mean, float[] std, bool? streamed = null)
{
    public ImageDataset Data { get; } = data;

    public IEnumerable<(Tensor Images, Tensor Labels)> Epoch(int batchSize, Device device, Random? shuffle = null, Augmentation? augmentation = null)
    {
        var order = Enumerable.Range(0, Data.Count).ToArray();
        shuffle?.Shuffle(order);
        var aug = augmentation ?? Augmentation.None;
        if (streamed ?? Data.Streamed)
        {
            var cuda = device.type == DeviceType.CUDA;
            using var reader = new BatchReader(Data, order, batchSize, pinned: cuda);
            foreach (var (images, labels) in reader.Batches())
                using (images)
                using (labels)
                    yield return Batch(() => cuda ? (images.to(device, non_blocking: true), labels.to(device, non_blocking: true)) : (images, labels),
                        device, shuffle, aug);
            yield break;
        }

        var stored = Data.On(device);
        for (var start = 0; start < order.Length; start += batchSize)
        {
            var which = order[start..Math.Min(start + batchSize, order.Length)];
            yield return Batch(() =>
            {
                var index = tensor(which.Select(i => (long)i).ToArray(), device: device);
                return (stored.Pixels.index_select(0, index), stored.Labels.index_select(0, index));
            }, device, shuffle, aug);
        }
    }

    /// <summary>One batch from its uint8 images and labels on the device (made inside its scope): augmented where there is a generator, normalised.</summary>
    private (Tensor Images, Tensor Labels) Batch(Func<(Tensor Images, Tensor Labels)> source, Device device, Random? rng, Augmentation aug)
    {
        // One scope per batch, closed before the batch is handed out (scopes are per thread and must nest).
        using var scope = NewDisposeScope();
        var (images, labels) = source();
        int n = (int)images.shape[0], c = Data.Channels, h = Data.Height, w = Data.Width;
        var pixels = images.to_type(float32);
        var draws = rng is null ? null : Draw(rng, aug, n);
        if (draws is not null)
            pixels = aug.ResizedCrop ? ResizedCrops(pixels, draws, device) : PaddedCrops(pixels, draws, aug.CropPadding, device);

        var normalised = pixels.div(Scalars.Byte255).sub(Channel(mean, device)).div(Channel(std, device));
        // Cutout zeroes a square of the normalised image (DeVries & Taylor 2017).
        if (draws?.Cut is { } cut)
            normalised = normalised.masked_fill(tensor(cut, [n, 1, h, w], device: device), Scalars.Zero);
        // The labels as a handle of the batch's own: the source's may be the reader's, disposed with it.
        return (normalised.MoveToOuterDisposeScope(), labels.alias().MoveToOuterDisposeScope());
    }

    /// <summary>A batch's random draws: per image crop box (top, left, height, width in the padded or plain image), flip, cutout mask.</summary>
    private sealed record Draws(int[] Boxes, bool[] Mirrored, bool[]? Cut);

    // Per image, in this order: the crop (shift y and x, or RandomResizedCrop's draws), the flip, the cutout centre (y, x).
    private Draws Draw(Random rng, Augmentation aug, int n)
    {
        int h = Data.Height, w = Data.Width, p = aug.CropPadding;
        var boxes = new int[n * 4];
        var mirrored = new bool[n];
        var cut = aug.CutoutSize > 0 ? new bool[n * h * w] : null;
        for (var i = 0; i < n; i++)
        {
            var (top, left, ch, cw) = aug.ResizedCrop ? CropBox(rng, h, w)
                : p > 0 ? (rng.Next(-p, p + 1) + p, rng.Next(-p, p + 1) + p, h, w)
                : (0, 0, h, w);
            (boxes[4 * i], boxes[4 * i + 1], boxes[4 * i + 2], boxes[4 * i + 3]) = (top, left, ch, cw);
            mirrored[i] = aug.HorizontalFlip && rng.Next(2) == 1;
            if (cut is not null)
            {
                int cy = rng.Next(h), cx = rng.Next(w);
                for (var y = 0; y < h; y++)
                    for (var x = 0; x < w; x++)
                        cut[(i * h + y) * w + x] = Math.Abs(y - cy) * 2 < aug.CutoutSize && Math.Abs(x - cx) * 2 < aug.CutoutSize;
            }
        }
        return new Draws(boxes, mirrored, cut);
    }

    /// <summary>Each image's crop from it zero-padded by <paramref name="p"/>, mirrored where drawn.</summary>
    private Tensor PaddedCrops(Tensor pixels, Draws draws, int p, Device device)
    {
        int n = (int)pixels.shape[0], c = Data.Channels, h = Data.Height, w = Data.Width;
        if (p == 0 && !draws.Mirrored.Any(m => m)) return pixels;
        var rows = new long[n * h];
        var cols = new long[n * w];
        for (var i = 0; i < n; i++)
        {
            int top = draws.Boxes[4 * i], left = draws.Boxes[4 * i + 1];
            for (var y = 0; y < h; y++) rows[i * h + y] = y + top;
            for (var x = 0; x < w; x++) cols[i * w + x] = (draws.Mirrored[i] ? w - 1 - x : x) + left;
        }
        // Zero padding is black before normalisation, as in torchvision's RandomCrop.
        var padded = p > 0 ? nn.functional.pad(pixels, [p, p, p, p]) : pixels;
        var rowIndex = tensor(rows, [n, 1, h, 1], device: device).expand(n, c, h, w + 2 * p);
        var colIndex = tensor(cols, [n, 1, 1, w], device: device).expand(n, c, h, w);
        return padded.gather(2, rowIndex).gather(3, colIndex);
    }

    /// <summary>
    /// Each image's crop box resized back to the image's size (bilinear, as torchvision's
    /// RandomResizedCrop: the crop first, so its edges are its own), then mirrored where drawn.
    /// </summary>
    private Tensor ResizedCrops(Tensor pixels, Draws draws, Device device)
    {
        int n = (int)pixels.shape[0], h = Data.Height, w = Data.Width;
        var images = new Tensor[n];
        for (var k = 0; k < n; k++)
        {
            int top = draws.Boxes[4 * k], left = draws.Boxes[4 * k + 1], ch = draws.Boxes[4 * k + 2], cw = draws.Boxes[4 * k + 3];
            var crop = pixels.narrow(0, k, 1).narrow(2, top, ch).narrow(3, left, cw);
            var resized = ch == h && cw == w ? crop : nn.functional.interpolate(crop, [h, w], mode: InterpolationMode.Bilinear, align_corners: false);
            images[k] = draws.Mirrored[k] ? resized.flip(3) : resized;
        }
        return cat(images, 0);
    }

    /// <summary>torchvision's RandomResizedCrop.get_params at its defaults: (top, left, height, width).</summary>
    public static (int Top, int Left, int Height, int Width) CropBox(Random rng, int height, int width)
    {
        var area = (double)height * width;
        double logLow = Math.Log(3.0 / 4), logHigh = Math.Log(4.0 / 3);
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var target = area * (0.08 + rng.NextDouble() * (1 - 0.08));
            var aspect = Math.Exp(logLow + rng.NextDouble() * (logHigh - logLow));
            var cw = (int)Math.Round(Math.Sqrt(target * aspect));
            var ch = (int)Math.Round(Math.Sqrt(target / aspect));
            if (cw > 0 && cw <= width && ch > 0 && ch <= height)
                return (rng.Next(height - ch + 1), rng.Next(width - cw + 1), ch, cw);
        }
        var ratio = (double)width / height;
        var (fh, fw) = ratio < 3.0 / 4 ? ((int)Math.Round(width / (3.0 / 4)), width)
            : ratio > 4.0 / 3 ? (height, (int)Math.Round(height * (4.0 / 3)))
            : (height, width);
        return ((height - fh) / 2, (width - fw) / 2, fh, fw);
    }

    private Tensor Channel(float[] values, Device device) => tensor(values, [1, Data.Channels, 1, 1], device: device);
}
