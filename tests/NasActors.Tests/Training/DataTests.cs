using System.IO.Compression;
using NasActors.Training.Data;
using NasActors.Protocol;
using NasActors.Tests.Support;
using static TorchSharp.torch;

namespace NasActors.Tests.Training;

[Collection(TorchCollection.Name)]
public class DataTests
{
    private static string Mini(string name) => Path.Combine(DatasetSpec.BundledDirectory, name);

    internal static DatasetPair LoadMini() => DatasetSpec.Parse(DatasetSpec.Default).Load();

    private static byte[] Gunzip(string file)
    {
        using var gz = new GZipStream(File.OpenRead(file), CompressionMode.Decompress);
        using var ms = new MemoryStream();
        gz.CopyTo(ms);
        return ms.ToArray();
    }

    [Fact]
    public void Bundled_fashion_mnist_subset_reads_as_real_images()
    {
        var pair = LoadMini();
        Assert.Equal((3000, 1000), (pair.Train.Count, pair.Test.Count));
        Assert.Equal((1, 28, 28, 10), (pair.Train.Channels, pair.Train.Height, pair.Train.Width, pair.Train.Classes));
        Assert.Equal(10, pair.Train.Labels.Distinct().Count());
        // Real photographs of clothes: mostly dark background, mean intensity well inside (0, 1).
        var (mean, std) = pair.Train.ChannelStatistics();
        Assert.InRange(mean[0], 0.2f, 0.4f);
        Assert.InRange(std[0], 0.25f, 0.45f);
        Assert.True(pair.HorizontalFlip);
    }

    [Fact]
    public void Raw_and_gzip_IDX_files_read_the_same()
    {
        using var dir = new TempDir();
        var images = Path.Combine(dir.Path, "t10k-images-idx3-ubyte");
        var labels = Path.Combine(dir.Path, "t10k-labels-idx1-ubyte");
        File.WriteAllBytes(images, Gunzip(Mini("t10k-images-idx3-ubyte.gz")));
        File.WriteAllBytes(labels, Gunzip(Mini("t10k-labels-idx1-ubyte.gz")));
        var raw = IdxReader.Read(images, labels, "raw");
        var gz = IdxReader.Read(Mini("t10k-images-idx3-ubyte.gz"), Mini("t10k-labels-idx1-ubyte.gz"), "gz");
        Assert.Equal(gz.ReadAll(), raw.ReadAll());
        Assert.Equal(gz.Labels, raw.Labels);
    }

    public static TheoryData<string, string> CorruptIdx => new()
    {
        { "truncate-images", "truncated: " },
        { "grow-images", "wrong size: " },
        { "magic-images", "wrong magic number 0x00000801, expected IDX images" },
        { "count-labels", "has 999 labels for the 1000 images" },
        { "bad-label", "label 10 at item 0 is not one of 10 classes" },
        { "corrupt-gzip", "corrupt gzip data" },
        { "tiny-labels", "shorter than the IDX header" },
    };

    [Theory]
    [MemberData(nameof(CorruptIdx))]
    public void Corrupt_IDX_files_are_errors_naming_the_file_and_the_problem(string damage, string problem)
    {
        using var dir = new TempDir();
        var images = Gunzip(Mini("t10k-images-idx3-ubyte.gz"));
        var labels = Gunzip(Mini("t10k-labels-idx1-ubyte.gz"));
        var imagesPath = Path.Combine(dir.Path, "images");
        var labelsPath = Path.Combine(dir.Path, "labels");
        switch (damage)
        {
            case "truncate-images": images = images[..^100]; break;
            case "grow-images": images = [.. images, 0]; break;
            case "magic-images": images[3] = 0x01; break;
            case "count-labels": labels = [.. labels[..7], 0xe7, .. labels[8..^1]]; break;
            case "bad-label": labels[8] = 10; break;
            case "tiny-labels": labels = labels[..5]; break;
        }
        File.WriteAllBytes(imagesPath, images);
        File.WriteAllBytes(labelsPath, labels);
        if (damage == "corrupt-gzip")
        {
            var gz = File.ReadAllBytes(Mini("t10k-images-idx3-ubyte.gz"));
            File.WriteAllBytes(imagesPath, [.. gz[..20], .. Enumerable.Repeat((byte)0xff, 200)]);
        }
        var e = Assert.Throws<DatasetFormatException>(() => IdxReader.Read(imagesPath, labelsPath, "x"));
        Assert.True(e.Message.Contains(problem), e.Message);
        Assert.StartsWith(damage.EndsWith("labels") || damage == "bad-label" ? labelsPath : imagesPath, e.Message);
    }

    /// <summary>Writes real Fashion-MNIST pictures in CIFAR-10's binary record format (3 x 32 x 32, centred).</summary>
    private static byte[] CifarRecords(ImageDataset source, int count)
    {
        var data = new byte[count * Cifar10Reader.RecordBytes];
        for (var n = 0; n < count; n++)
        {
            var r = n * Cifar10Reader.RecordBytes;
            data[r] = (byte)source.Labels[n];
            for (var c = 0; c < 3; c++)
                for (var y = 0; y < 28; y++)
                    for (var x = 0; x < 28; x++)
                        data[r + 1 + c * 1024 + (y + 2) * 32 + x + 2] = source.ReadAll()[n * 784 + y * 28 + x];
        }
        return data;
    }

    [Fact]
    public void Cifar10_binary_files_read_and_corruption_is_named()
    {
        var mini = LoadMini();
        using var dir = new TempDir();
        foreach (var f in Cifar10Reader.TrainFiles)
            File.WriteAllBytes(Path.Combine(dir.Path, f), CifarRecords(mini.Train, 40));
        File.WriteAllBytes(Path.Combine(dir.Path, Cifar10Reader.TestFile), CifarRecords(mini.Test, 30));
        var pair = DatasetSpec.Parse($"cifar10:{dir.Path}").Load();
        Assert.Equal((200, 30, 3, 32), (pair.Train.Count, pair.Test.Count, pair.Train.Channels, pair.Train.Height));
        Assert.Equal(mini.Train.Labels[..40], pair.Train.Labels[..40]);
        Assert.Equal(mini.Train.ReadAll()[0 * 784 + 5 * 28 + 10], pair.Train.ReadAll()[2048 + 7 * 32 + 12]);

        var test = Path.Combine(dir.Path, Cifar10Reader.TestFile);
        File.WriteAllBytes(test, CifarRecords(mini.Test, 30)[..^7]);
        var e = Assert.Throws<DatasetFormatException>(() => DatasetSpec.Parse($"cifar10:{dir.Path}").Load());
        Assert.StartsWith(test, e.Message);
        Assert.Contains("not a whole number of 3073-byte records", e.Message);

        var records = CifarRecords(mini.Test, 30);
        records[3073 * 2] = 12;
        File.WriteAllBytes(test, records);
        e = Assert.Throws<DatasetFormatException>(() => DatasetSpec.Parse($"cifar10:{dir.Path}").Load());
        Assert.Contains("record 2 has label 12", e.Message);

        File.Delete(test);
        e = Assert.Throws<DatasetFormatException>(() => DatasetSpec.Parse($"cifar10:{dir.Path}").Load());
        Assert.Contains("missing file for dataset cifar10", e.Message);
    }

    [Theory]
    [InlineData("imagenet", "unknown dataset")]
    [InlineData("mnist", "give its folder")]
    [InlineData("cifar10:", "empty directory")]
    public void Bad_dataset_specs_are_refused(string spec, string problem) =>
        Assert.Contains(problem, Assert.Throws<InputException>(() => DatasetSpec.Parse(spec)).Message);

    [Fact]
    public void A_missing_dataset_folder_is_named()
    {
        var e = Assert.Throws<DatasetFormatException>(() => DatasetSpec.Parse("fashion-mnist:/no/such/dir").Load());
        Assert.Contains("/no/such/dir", e.Message);
    }

    [Fact]
    public void Validation_split_is_held_out_deterministically()
    {
        var pair = LoadMini();
        var a = DataSplits.Create(pair, 500, 1000, seed: 3);
        var b = DataSplits.Create(pair, 500, 1000, seed: 3);
        var c = DataSplits.Create(pair, 500, 1000, seed: 4);
        Assert.Equal((1000, 500), (a.Train.Count, a.Validation.Count));
        Assert.Equal(a.Validation.ReadAll(), b.Validation.ReadAll());
        Assert.NotEqual(a.Validation.ReadAll(), c.Validation.ReadAll());
        var full = DataSplits.Create(pair, 500, null, seed: 3);
        Assert.Equal(2500, full.Train.Count);
        // No image is both trained on and validated on (compare whole images).
        var validation = Enumerable.Range(0, 500).Select(i => Convert.ToBase64String(full.Validation.ReadAll(), i * 784, 784)).ToHashSet();
        Assert.DoesNotContain(Enumerable.Range(0, 2500).Select(i => Convert.ToBase64String(full.Train.ReadAll(), i * 784, 784)), validation.Contains);
        Assert.Throws<InputException>(() => DataSplits.Create(pair, 3000, null, 0));
    }

    [Fact]
    public void Batches_are_normalised_and_augmentation_is_seeded()
    {
        var data = LoadMini().Test;
        var mean = new[] { 0.25f };
        var std = new[] { 0.5f };
        var batches = new Batches(data, mean, std);
        var (x, y) = batches.Epoch(8, CPU).First();
        Assert.Equal(new long[] { 8, 1, 28, 28 }, x.shape);
        Assert.Equal((data.ReadAll()[300] / 255f - 0.25f) / 0.5f, x[0, 0, 300 / 28, 300 % 28].item<float>(), 5);
        Assert.Equal(data.Labels[0], y[0].item<long>());

        var aug = new Augmentation(3, true, 6);
        var first = batches.Epoch(8, CPU, new Random(5), aug).First().Images;
        var again = batches.Epoch(8, CPU, new Random(5), aug).First().Images;
        Assert.True(first.eq(again).all().item<bool>());
        Assert.False(first.eq(batches.Epoch(8, CPU, new Random(6), aug).First().Images).all().item<bool>());
    }

    [Fact]
    public void Device_side_crop_flip_and_cutout_match_the_image_by_image_definition()
    {
        // Three-channel 7x5 images with distinct bytes, so every misplaced pixel shows.
        var rng = new Random(1);
        var pixels = new byte[10 * 3 * 7 * 5];
        rng.NextBytes(pixels);
        var data = new ImageDataset("t", 3, 7, 5, 10, pixels, Enumerable.Range(0, 10).Select(i => (ushort)i).ToArray());
        float[] mean = [0.4f, 0.5f, 0.6f], std = [0.2f, 0.25f, 0.3f];
        var aug = new Augmentation(2, true, 3);

        var order = Enumerable.Range(0, 10).ToArray();
        var draws = new Random(9);
        draws.Shuffle(order);
        var expected = new float[10 * data.ImageBytes];
        for (var i = 0; i < 10; i++) Reference(data, order[i], mean, std, aug, draws, expected.AsSpan(i * data.ImageBytes, data.ImageBytes));

        var batches = new Batches(data, mean, std).Epoch(4, CPU, new Random(9), aug).ToList();
        Assert.Equal([4L, 4, 2], batches.Select(b => b.Images.shape[0]));
        Assert.Equal(expected, batches.SelectMany(b => b.Images.data<float>().ToArray()));
        Assert.Equal(order.Select(i => (long)i), batches.SelectMany(b => b.Labels.data<long>().ToArray()));
        // The bytes went to the device once, and stay there for the next epoch and the next child.
        Assert.Same(data.On(CPU), data.On(CPU));
    }

    /// <summary>The augmentation's definition, one pixel at a time (the random draws in the same order as the device path).</summary>
    private static void Reference(ImageDataset data, int index, float[] mean, float[] std, Augmentation aug, Random rng, Span<float> target)
    {
        int h = data.Height, w = data.Width, plane = h * w;
        var dy = rng.Next(-aug.CropPadding, aug.CropPadding + 1);
        var dx = rng.Next(-aug.CropPadding, aug.CropPadding + 1);
        var flip = rng.Next(2) == 1;
        int cutY = rng.Next(h), cutX = rng.Next(w);
        var source = data.ReadAll().AsSpan(index * data.ImageBytes, data.ImageBytes);
        for (var c = 0; c < data.Channels; c++)
            for (var y = 0; y < h; y++)
                for (var x = 0; x < w; x++)
                {
                    int sy = y + dy, sx = (flip ? w - 1 - x : x) + dx;
                    var inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
                    var value = ((inside ? source[c * plane + sy * w + sx] : 0) / 255f - mean[c]) / std[c];
                    if (Math.Abs(y - cutY) * 2 < aug.CutoutSize && Math.Abs(x - cutX) * 2 < aug.CutoutSize) value = 0f;
                    target[c * plane + y * w + x] = value;
                }
    }
}
