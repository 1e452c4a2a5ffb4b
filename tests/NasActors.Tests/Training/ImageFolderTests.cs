using NasActors.Training.Data;
using NasActors.ChildTrainer.Workers;
using NasActors.Protocol.Messages;
using NasActors.Search;
using NasActors.SearchSpace;
using NasActors.Tests.Support;
using SkiaSharp;

namespace NasActors.Tests.Training;

/// <summary>Image-folder datasets (<c>folder:DIR</c>): decoded as torchvision's ImageFolder reads them, cached once, every broken file named.</summary>
[Collection(TorchCollection.Name)]
public sealed class ImageFolderTests : IDisposable
{
    private readonly TempDir dir = new();
    private readonly string? cacheBefore = Environment.GetEnvironmentVariable(ImageFolderReader.CacheVariable);

    public ImageFolderTests() => Environment.SetEnvironmentVariable(ImageFolderReader.CacheVariable, Path.Combine(dir.Path, "cache"));

    public void Dispose()
    {
        Environment.SetEnvironmentVariable(ImageFolderReader.CacheVariable, cacheBefore);
        dir.Dispose();
    }

    private string Root => Path.Combine(dir.Path, "images");

    /// <summary>A solid image of <paramref name="w"/> x <paramref name="h"/>, saved as the extension says (PNG in gray when <paramref name="gray"/>).</summary>
    private string Image(string split, string cls, string name, int w, int h, SKColor color, bool gray = false)
    {
        var folder = Path.Combine(Root, split, cls);
        Directory.CreateDirectory(folder);
        using var bitmap = new SKBitmap(new SKImageInfo(w, h, gray ? SKColorType.Gray8 : SKColorType.Rgba8888, gray ? SKAlphaType.Opaque : SKAlphaType.Unpremul));
        bitmap.Erase(color);
        var file = Path.Combine(folder, name);
        var format = name.EndsWith(".jpg", StringComparison.Ordinal) ? SKEncodedImageFormat.Jpeg : SKEncodedImageFormat.Png;
        using var data = bitmap.Encode(format, 95);
        File.WriteAllBytes(file, data.ToArray());
        return file;
    }

    /// <summary>A noisy PNG: big enough that half of it is a truncated image.</summary>
    private string Noise(string split, string cls, string name)
    {
        var folder = Path.Combine(Root, split, cls);
        Directory.CreateDirectory(folder);
        var rng = new Random(5);
        using var bitmap = new SKBitmap(new SKImageInfo(64, 48, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (var y = 0; y < 48; y++)
            for (var x = 0; x < 64; x++)
                bitmap.SetPixel(x, y, new SKColor((byte)rng.Next(256), (byte)rng.Next(256), (byte)rng.Next(256)));
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        var file = Path.Combine(folder, name);
        File.WriteAllBytes(file, data.ToArray());
        return file;
    }

    private void SmallSet()
    {
        // Classes are sorted by name, not by creation.
        Image("train", "zebra", "a.png", 40, 20, new SKColor(200, 10, 30));
        Image("train", "zebra", "b.jpg", 33, 57, new SKColor(10, 200, 30));
        Image("train", "cat", "a.png", 16, 16, new SKColor(77, 77, 77), gray: true);
        Image("train", "cat", "notes.txt.png", 8, 9, new SKColor(0, 0, 255, 128));
        File.WriteAllText(Path.Combine(Root, "train", "cat", "notes.txt"), "not an image: skipped, as ImageFolder skips it");
        Image("test", "zebra", "t.png", 50, 50, new SKColor(200, 10, 30));
    }

    [Fact]
    public void Folders_read_as_ImageFolder_reads_them_RGB_resized_and_centre_cropped()
    {
        SmallSet();
        var pair = DatasetSpec.Parse($"folder:{Root}").Load(12);
        Assert.Equal(["cat", "zebra"], pair.Train.ClassNames);
        Assert.Equal((3, 12, 12, 4, 1), (pair.Train.Channels, pair.Train.Height, pair.Train.Width, pair.Train.Count, pair.Test.Count));
        Assert.Equal([0, 0, 1, 1], pair.Train.Labels.Select(l => (int)l));
        var plane = 12 * 12;
        byte[] Pixel(ImageDataset d, int image, int y, int x) =>
            [.. Enumerable.Range(0, 3).Select(c => d.ReadAll()[image * 3 * plane + c * plane + y * 12 + x])];
        // The gray image has three equal planes; the red one keeps its colour after resizing (JPEG within a few levels).
        Assert.Equal([77, 77, 77], Pixel(pair.Train, 0, 6, 6));
        Assert.Equal([200, 10, 30], Pixel(pair.Train, 2, 0, 11));
        Assert.All(Pixel(pair.Train, 3, 5, 5).Zip(new byte[] { 10, 200, 30 }), p => Assert.InRange(p.Item1 - p.Item2, -6, 6));
        // Alpha is dropped, not blended: half-transparent blue stays blue.
        Assert.Equal([0, 0, 255], Pixel(pair.Train, 1, 3, 3));
    }

    [Fact]
    public void Images_are_decoded_once_and_decoded_anew_when_a_file_or_the_cache_changes()
    {
        SmallSet();
        // A copy: the dataset reads its images where the cache file holds them, and the file is damaged in place below.
        var first = DatasetSpec.Parse($"folder:{Root}").Load(8).Train.ReadAll().ToArray();
        var cache = Assert.Single(Directory.GetFiles(Path.Combine(dir.Path, "cache")));
        // A broken image under an unchanged cache would show only if the cache were not used.
        var written = File.GetLastWriteTimeUtc(cache);
        Assert.Equal(first, DatasetSpec.Parse($"folder:{Root}").Load(8).Train.ReadAll());
        Assert.Equal(written, File.GetLastWriteTimeUtc(cache));

        // A damaged cache file is no error: the images are decoded again and the cache rewritten.
        var bytes = File.ReadAllBytes(cache);
        bytes[bytes.Length / 2] ^= 0xff;
        File.WriteAllBytes(cache, bytes);
        Assert.Equal(first, DatasetSpec.Parse($"folder:{Root}").Load(8).Train.ReadAll());

        // A changed file makes another cache entry, with its new pixels.
        Image("train", "zebra", "a.png", 40, 20, new SKColor(0, 0, 0));
        File.SetLastWriteTimeUtc(Path.Combine(Root, "train", "zebra", "a.png"), DateTime.UtcNow.AddMinutes(1));
        var changed = DatasetSpec.Parse($"folder:{Root}").Load(8);
        Assert.NotEqual(first, changed.Train.ReadAll());
        Assert.Equal(2, Directory.GetFiles(Path.Combine(dir.Path, "cache")).Length);
    }

    [Fact]
    public void Every_broken_file_and_folder_is_named()
    {
        SmallSet();
        string Problem() => Assert.Throws<DatasetFormatException>(() => DatasetSpec.Parse($"folder:{Root}").Load(8)).Message;

        var noisy = Noise("train", "cat", "c.png");
        File.WriteAllBytes(noisy, File.ReadAllBytes(noisy)[..(int)(new FileInfo(noisy).Length / 2)]);
        Assert.Equal($"{noisy}: truncated image (its 64x48 pixels end early)", Problem());
        File.WriteAllText(noisy, "hello");
        Assert.StartsWith($"{noisy}: not a readable image", Problem());
        File.Delete(noisy);

        // A pipe named like an image would block its reader for good; a read that fails with EIO
        // (as a failing disk's does: /proc/self/mem at address 0) once aborted the process from
        // SkiaSharp's native read callback. Both are one error naming the file.
        var pipe = Path.Combine(Root, "train", "cat", "p.png");
        Assert.Equal(0, NasActors.Tests.Support.NasProcess.RunToEnd(new System.Diagnostics.ProcessStartInfo("mkfifo", [pipe]), TimeSpan.FromSeconds(10)).ExitCode);
        Assert.Equal($"{pipe}: empty, or not a regular file (a pipe, socket or device)", Problem());
        File.Delete(pipe);
        var failing = Path.Combine(Root, "train", "cat", "m.png");
        File.CreateSymbolicLink(failing, "/proc/self/mem");
        Assert.StartsWith($"{failing}: ", Problem());
        File.Delete(failing);

        Directory.CreateDirectory(Path.Combine(Root, "train", "emu"));
        Assert.Equal($"{Path.Combine(Root, "train", "emu")}: no images in class folder (expected .jpg, .jpeg, .png, .bmp, .webp, .gif)", Problem());
        Directory.Delete(Path.Combine(Root, "train", "emu"));

        Image("test", "yak", "y.png", 8, 8, SKColors.Red);
        Assert.Equal($"{Path.Combine(Root, "test", "yak")}: a test class that train/ does not have", Problem());
        Directory.Delete(Path.Combine(Root, "test"), recursive: true);
        Assert.Equal($"{Path.Combine(Root, "test")}: no test/ (or val/) folder", Problem());
        Directory.Delete(Path.Combine(Root, "train"), recursive: true);
        Directory.CreateDirectory(Path.Combine(Root, "train"));
        Assert.Equal($"{Path.Combine(Root, "train")}: no class folders (expected train/CLASS/*)", Problem());
    }

    [Fact]
    public void Nas_train_takes_an_image_folder_at_the_size_asked_and_exits_1_naming_a_broken_image()
    {
        SmallSet();
        Image("train", "cat", "b.png", 20, 20, SKColors.White);
        var env = new Dictionary<string, string> { [ImageFolderReader.CacheVariable] = Path.Combine(dir.Path, "cache") };
        var output = Path.Combine(dir.Path, "out");
        var r = NasProcess.Run(TimeSpan.FromMinutes(2), env, "train", "--dataset", $"folder:{Root}", "--image", "16", "--validation", "1", "--batch", "2",
            "--cells", "1", "--filters", "4", "--out", output, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var module = File.ReadAllText(Path.Combine(output, "model.py"));
        Assert.Contains("IMAGE_SIZE = 16", module);
        Assert.Contains("CLASSES = [\"cat\", \"zebra\"]", module);

        var noisy = Noise("train", "zebra", "c.png");
        File.WriteAllBytes(noisy, File.ReadAllBytes(noisy)[..100]);
        var broken = NasProcess.Run(TimeSpan.FromMinutes(2), env, "train", "--dataset", $"folder:{Root}", "--image", "16", "--json");
        Assert.Equal(1, broken.ExitCode);
        Assert.Equal($"nas: error: dataset: {noisy}: truncated image (its 64x48 pixels end early)", broken.Stderr.Trim());
        var resized = NasProcess.Run(TimeSpan.FromMinutes(2), env, "train", "--image", "16");
        Assert.Equal(2, resized.ExitCode);
        Assert.Contains("--image: resizes folder: datasets only", resized.Stderr);
    }

    [Fact]
    public void A_broken_image_fails_the_child_with_its_name_and_the_folder_put_right_trains_the_next()
    {
        SmallSet();
        Image("train", "cat", "b.png", 20, 20, SKColors.White);
        Image("test", "cat", "t.png", 20, 20, SKColors.White);
        var noisy = Noise("train", "zebra", "c.png");
        var good = File.ReadAllBytes(noisy);
        File.WriteAllBytes(noisy, good[..(good.Length / 2)]);
        var spec = new SearchSettings().Search with { Dataset = $"folder:{Root}", Image = 8, ValidationSize = 1, Epochs = 1, BatchSize = 2 };
        var trainer = new TorchChildTrainer();
        var job = new TrainChild(1, NasNetA.Genotype, false, 1, 1, spec);
        var failed = trainer.Train(job, "cpu", (_, _, _) => { }, CancellationToken.None);
        Assert.Equal($"dataset: {noisy}: truncated image (its 64x48 pixels end early)", failed.FailureReason);

        File.WriteAllBytes(noisy, good);
        var trained = trainer.Train(job, "cpu", (_, _, _) => { }, CancellationToken.None);
        Assert.Null(trained.FailureReason);
        Assert.InRange(trained.Accuracy, 0, 1);
    }

    [Fact]
    public void A_folder_of_a_thousand_classes_reads_back_from_its_cache_and_trains()
    {
        // Past the 256 a one-byte label held: 1,000 classes of two images each, a test image for every tenth.
        for (var c = 0; c < 1000; c++)
        {
            var colour = new SKColor((byte)(c % 256), (byte)(c / 4), (byte)(255 - c % 256));
            Image("train", $"class{c:D4}", "a.png", 8, 8, colour);
            Image("train", $"class{c:D4}", "b.png", 8, 8, colour);
            if (c % 10 == 0) Image("test", $"class{c:D4}", "t.png", 8, 8, colour);
        }
        var decoded = DatasetSpec.Parse($"folder:{Root}").Load(8);
        Assert.Equal((1000, 2000, 100), (decoded.Train.Classes, decoded.Train.Count, decoded.Test.Count));
        Assert.Equal(Enumerable.Range(0, 1000).SelectMany(c => new[] { c, c }), decoded.Train.Labels.Select(l => (int)l));
        Assert.Equal(Enumerable.Range(0, 100).Select(c => 10 * c), decoded.Test.Labels.Select(l => (int)l));
        // The second read is the cache's (its file holds the labels as 16 bits, and is not written again): the same labels and pixels.
        var cache = Assert.Single(Directory.GetFiles(Path.Combine(dir.Path, "cache"), "*.nasimg"));
        var written = File.GetLastWriteTimeUtc(cache);
        var cached = DatasetSpec.Parse($"folder:{Root}").Load(8);
        Assert.Equal(written, File.GetLastWriteTimeUtc(cache));
        Assert.Equal(decoded.Train.Labels, cached.Train.Labels);
        Assert.Equal(decoded.Test.Labels, cached.Test.Labels);
        Assert.Equal(decoded.Train.ReadAll(), cached.Train.ReadAll());

        var spec = new SearchSettings().Search with { Cells = 1, Filters = 4, Dataset = $"folder:{Root}", Image = 8, ValidationSize = 200, Epochs = 1, BatchSize = 64 };
        var trained = new TorchChildTrainer().Train(new TrainChild(1, NasNetA.Genotype, false, 1, 1, spec), "cpu", (_, _, _) => { }, CancellationToken.None);
        Assert.Null(trained.FailureReason);
        Assert.InRange(trained.Accuracy, 0, 1);
        Assert.True(double.IsFinite(trained.Loss), $"loss {trained.Loss}");
    }
}
