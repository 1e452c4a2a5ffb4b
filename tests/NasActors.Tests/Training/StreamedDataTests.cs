using System.Diagnostics;
using System.Text.Json;
using NasActors.Training.Data;
using NasActors.Tests.Support;
using SkiaSharp;
using static TorchSharp.torch;

namespace NasActors.Tests.Training;

/// <summary>
/// Datasets of any size: splits streamed from the cache's records batch by batch (the same
/// batches as in memory, bit for bit), ImageNet's augmentation, one decode per machine under a
/// lock that a crash releases, a cache that cannot be written.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class StreamedDataTests : IDisposable
{
    private readonly TempDir dir = new();
    private readonly string? cacheBefore = Environment.GetEnvironmentVariable(ImageFolderReader.CacheVariable);

    public void Dispose()
    {
        Environment.SetEnvironmentVariable(ImageFolderReader.CacheVariable, cacheBefore);
        dir.Dispose();
    }

    private string Root => Path.Combine(dir.Path, "images");
    private string Cache => Path.Combine(dir.Path, "cache");
    private Dictionary<string, string> Env => new() { [ImageFolderReader.CacheVariable] = Cache };

    /// <summary><paramref name="perClass"/> noisy PNGs in each of three classes (a tenth of them also as test images), seeded.</summary>
    private void Folder(int perClass, int side = 20)
    {
        var rng = new Random(3);
        foreach (var cls in new[] { "ant", "bee", "cow" })
            for (var i = 0; i < perClass; i++)
                foreach (var split in i % 10 == 0 ? new[] { "train", "test" } : ["train"])
                {
                    var folder = Path.Combine(Root, split, cls);
                    Directory.CreateDirectory(folder);
                    using var bitmap = new SKBitmap(new SKImageInfo(side + i % 7, side, SKColorType.Rgba8888, SKAlphaType.Unpremul));
                    for (var y = 0; y < bitmap.Height; y++)
                        for (var x = 0; x < bitmap.Width; x++)
                            bitmap.SetPixel(x, y, new SKColor((byte)rng.Next(256), (byte)(x * 9), (byte)(cls[0] + y)));
                    using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
                    File.WriteAllBytes(Path.Combine(folder, $"{i:D4}.png"), data.ToArray());
                }
    }

    private static List<(float[] Images, long[] Labels)> Epoch(Batches batches, Augmentation aug, int seed) =>
        [.. batches.Epoch(7, CPU, new Random(seed), aug).Select(b =>
        {
            using var x = b.Images;
            using var y = b.Labels;
            return (x.data<float>().ToArray(), y.data<long>().ToArray());
        })];

    [Fact]
    public void Streamed_batches_are_the_in_memory_batches_bit_for_bit_in_every_augmentation()
    {
        // A held-out view of a dataset read from its cache file, as a search's training split is.
        Folder(12);
        Environment.SetEnvironmentVariable(ImageFolderReader.CacheVariable, Cache);
        DataSplits splits;
        try
        {
            DatasetSpec.Parse($"folder:{Root}").Load(16);
            splits = DataSplits.Create(DatasetSpec.Parse($"folder:{Root}").Load(16), 5, null, seed: 1);
        }
        finally
        {
            Environment.SetEnvironmentVariable(ImageFolderReader.CacheVariable, cacheBefore);
        }
        Assert.IsType<FileRecords>(splits.Train.Records);
        var (mean, std) = splits.Train.ChannelStatistics();
        foreach (var kind in new[] { AugmentKind.Cifar, AugmentKind.ImageNet, AugmentKind.None })
        {
            var aug = Augmentation.For(kind, splits, cutoutSize: 5);
            var inMemory = Epoch(new Batches(splits.Train, mean, std, streamed: false), aug, seed: 4);
            var streamed = Epoch(new Batches(splits.Train, mean, std, streamed: true), aug, seed: 4);
            Assert.Equal(5, inMemory.Count);
            Assert.Equal(inMemory.Select(b => b.Labels), streamed.Select(b => b.Labels));
            Assert.Equal(inMemory.Select(b => b.Images), streamed.Select(b => b.Images));
        }
    }

    [Fact]
    public void Resized_crops_keep_torchvisions_bounds_and_resize_a_ramp_into_a_ramp()
    {
        var rng = new Random(9);
        for (var i = 0; i < 5000; i++)
        {
            var (top, left, h, w) = Batches.CropBox(rng, 224, 160);
            Assert.InRange(top, 0, 224 - h);
            Assert.InRange(left, 0, 160 - w);
            // Rounding a side moves the area and aspect a little past the drawn ones.
            Assert.InRange(h * w / (224.0 * 160), 0.075, 1);
            Assert.InRange((double)w / h, 0.72, 1.39);
        }

        // Each image a left-to-right ramp: a crop resized is a ramp again, rising or (mirrored) falling.
        const int n = 40, side = 32;
        var pixels = new byte[n * 3 * side * side];
        for (var k = 0; k < pixels.Length; k++) pixels[k] = (byte)(k % side * 8);
        var data = new ImageDataset("ramp", 3, side, side, 2, pixels, new ushort[n]);
        var splits = new DataSplits(data, data, data, HorizontalFlip: true, CropPadding: 4);
        var aug = Augmentation.For(AugmentKind.ImageNet, splits, 0);
        Assert.True(aug.ResizedCrop);
        using var batch = new Batches(data, [0f, 0f, 0f], [1f, 1f, 1f]).Epoch(n, CPU, new Random(2), aug).Single().Images;
        var rows = batch.reshape(n * 3 * side, side).data<float>().ToArray();
        var (rising, falling) = (0, 0);
        for (var r = 0; r < n * 3 * side; r += 3 * side)
        {
            var row = rows.AsSpan(r * side, side).ToArray();
            var up = row.Zip(row.Skip(1)).All(p => p.Item2 >= p.Item1 - 1e-5f);
            var down = row.Zip(row.Skip(1)).All(p => p.Item2 <= p.Item1 + 1e-5f);
            Assert.True(up || down, $"row {r}: {string.Join(",", row)}");
            if (row[^1] > row[0]) rising++;
            if (row[^1] < row[0]) falling++;
            Assert.InRange(row.Min(), 0, 248 / 255f + 1e-5f);
        }
        Assert.True(rising > 5 && falling > 5, $"{rising} rising, {falling} falling");
    }

    [Fact]
    public void Nas_train_streamed_ends_where_training_in_memory_ends()
    {
        Folder(10);
        string[] args = ["train", "--dataset", $"folder:{Root}", "--image", "16", "--augment", "imagenet", "--cutout", "4", "--validation", "6", "--batch", "8",
            "--cells", "1", "--filters", "4", "--epochs", "2", "--seed", "3", "--json"];
        var inMemory = NasProcess.Run(TimeSpan.FromMinutes(3), Env, args);
        Assert.True(inMemory.ExitCode == 0, inMemory.Stderr);
        var streamed = NasProcess.Run(TimeSpan.FromMinutes(3), new Dictionary<string, string>(Env) { [ImageDataset.StreamAboveVariable] = "0" }, args);
        Assert.True(streamed.ExitCode == 0, streamed.Stderr);
        double[] Figures(string json)
        {
            using var doc = JsonDocument.Parse(json);
            return [.. new[] { "accuracy", "val_accuracy", "train_loss" }.Select(k => doc.RootElement.GetProperty(k).GetDouble())];
        }
        Assert.Equal(Figures(inMemory.Stdout), Figures(streamed.Stdout));

        var bad = NasProcess.Run(TimeSpan.FromMinutes(1), new Dictionary<string, string>(Env) { [ImageDataset.StreamAboveVariable] = "lots" }, args);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("NAS_STREAM_ABOVE_MB: expected a whole number of MiB", bad.Stderr);
        var augment = NasProcess.Run(TimeSpan.FromMinutes(1), Env, [.. args.Select(a => a == "imagenet" ? "mosaic" : a)]);
        Assert.Equal(2, augment.ExitCode);
        Assert.Equal("nas: error: --augment: expected auto (imagenet from 112 px, else cifar), cifar (padded random crop, flip), imagenet (RandomResizedCrop 8-100%, flip) or none, got \"mosaic\"",
            augment.Stderr.Trim());
    }

    [Fact]
    public async Task One_process_decodes_while_the_others_wait_and_a_killed_decode_leaves_nothing_trusted()
    {
        // Large enough a decode (450 images to 192 px) that the kill below lands while it writes.
        Folder(150, side: 48);
        string[] model = ["model", "--dataset", $"folder:{Root}", "--image", "192", "--cells", "1", "--filters", "4", "--json"];
        var first = NasProcess.Run(TimeSpan.FromMinutes(2), Env, model);
        Assert.True(first.ExitCode == 0, first.Stderr);
        var cache = Assert.Single(Directory.GetFiles(Cache, "*.nasimg"));
        var bytes = File.ReadAllBytes(cache);
        File.Delete(cache);

        // Another process holds the lock (it is decoding): nas waits, saying so, and goes on when it is released.
        var waiter = NasProcess.StartInfo(model);
        foreach (var (k, v) in Env) waiter.Environment[k] = v;
        Process p;
        using (ImageCache.Lock(cache, () => { }))
        {
            p = Process.Start(waiter)!;
            var line = await p.StandardError.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal($"nas: waiting for another process to decode {Root} at 192 px", line);
            Assert.False(p.HasExited);
        }
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(2)));
        Assert.Equal(0, p.ExitCode);
        Assert.Equal(bytes, File.ReadAllBytes(cache));
        p.Dispose();

        // Killed while it writes the cache: no cache is left that anyone reads; the next process decodes it whole.
        File.Delete(cache);
        using (var killed = Process.Start(Startable(model))!)
        {
            var clock = Stopwatch.StartNew();
            while (Directory.GetFiles(Cache, "*.tmp").Length == 0 && !killed.HasExited && clock.Elapsed < TimeSpan.FromMinutes(1)) Thread.Sleep(5);
            killed.Kill();
            killed.WaitForExit();
        }
        Assert.Empty(Directory.GetFiles(Cache, "*.nasimg"));
        // What a decode of the folder as it was before a change left when it was killed: its key's lock is free, so it goes too.
        var orphan = Path.Combine(Cache, "0123456789abcdef0123456789abcdef.nasimg.feed.tmp");
        File.WriteAllBytes(orphan, new byte[1000]);
        var again = NasProcess.Run(TimeSpan.FromMinutes(2), Env, model);
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Empty(Directory.GetFiles(Cache, "*.tmp"));
        Assert.Equal(bytes, File.ReadAllBytes(cache));
        Assert.False(File.Exists(orphan));
    }

    private ProcessStartInfo Startable(string[] args)
    {
        var start = NasProcess.StartInfo(args);
        start.RedirectStandardOutput = false;
        start.RedirectStandardError = false;
        foreach (var (k, v) in Env) start.Environment[k] = v;
        return start;
    }

    [RootFact]
    public void A_disk_that_fills_while_the_cache_is_written_costs_the_cache_not_the_command()
    {
        Folder(30, side: 48);
        // A cache folder of 1 MiB (a tmpfs in a mount namespace of its own): 64 px images need 1.1 MiB.
        var script = $"mkdir -p '{Cache}' && mount -t tmpfs -o size=1m tmpfs '{Cache}' && dotnet '{Path.Combine(AppContext.BaseDirectory, "nas.dll")}' "
            + $"model --dataset 'folder:{Root}' --image 64 --pytorch '{Path.Combine(dir.Path, "model.py")}' --cells 1 --filters 4 --json; echo \"exit $?\"; ls -A '{Cache}'";
        var start = new ProcessStartInfo("unshare", ["-m", "bash", "-c", script]);
        start.Environment[ImageFolderReader.CacheVariable] = Cache;
        var r = NasProcess.RunToEnd(start, TimeSpan.FromMinutes(2));
        var lines = r.Stdout.Trim().Split('\n');
        Assert.Contains("exit 0", lines);
        // Only the lock folder is left: no half-written cache (its room is reserved before the decode, which is refused at once).
        Assert.Equal("locks", lines[^1]);
        Assert.Matches($"^nas: cannot keep decoded images in {Cache} \\(.*(the disk was full|No space left on device).*\\); they are decoded again next time", r.Stderr.Trim());
        Assert.Contains("MEAN = [", File.ReadAllText(Path.Combine(dir.Path, "model.py")));
    }

    [Fact]
    public void An_untrained_network_for_an_image_folder_normalises_by_its_training_images_and_names_its_classes()
    {
        Folder(10);
        var file = Path.Combine(dir.Path, "model.py");
        var r = NasProcess.Run(TimeSpan.FromMinutes(2), Env, "model", "--dataset", $"folder:{Root}", "--image", "24", "--cells", "1", "--filters", "4", "--pytorch", file);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Environment.SetEnvironmentVariable(ImageFolderReader.CacheVariable, Cache);
        float[] mean, std;
        try
        {
            (mean, std) = DatasetSpec.Parse($"folder:{Root}").Load(24).Train.ChannelStatistics();
        }
        finally
        {
            Environment.SetEnvironmentVariable(ImageFolderReader.CacheVariable, cacheBefore);
        }
        var module = File.ReadAllText(file);
        Assert.Contains("IMAGE_SIZE = 24", module);
        Assert.Contains("CLASSES = [\"ant\", \"bee\", \"cow\"]", module);
        // Not ImageNet's or CIFAR's figures: this folder's own (its green channel rises along x).
        Assert.Contains(mean[1].ToString("R", System.Globalization.CultureInfo.InvariantCulture)[..5], module);
        Assert.Contains(std[2].ToString("R", System.Globalization.CultureInfo.InvariantCulture)[..5], module);

        var unknown = NasProcess.Run(TimeSpan.FromMinutes(1), Env, "model", "--dataset", "svhn");
        Assert.Equal(2, unknown.ExitCode);
        Assert.StartsWith("nas: error: --dataset: unknown input \"svhn\"", unknown.Stderr.Trim());
    }

    [Fact]
    public void A_link_named_like_an_image_to_a_device_that_never_ends_is_one_line()
    {
        Folder(2);
        var link = Path.Combine(Root, "train", "ant", "zero.png");
        File.CreateSymbolicLink(link, "/dev/zero");
        var r = NasProcess.Run(TimeSpan.FromMinutes(1), Env, "model", "--dataset", $"folder:{Root}", "--cells", "1", "--filters", "4");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"nas: error: --dataset: {link}: empty, or not a regular file (a pipe, socket or device)", r.Stderr.Trim());
    }

    [Fact]
    public void Nas_bench_dataset_streams_an_epoch_and_says_what_it_held()
    {
        Folder(20);
        var r = NasProcess.Run(TimeSpan.FromMinutes(2), Env, "bench", "dataset", "--dataset", $"folder:{Root}", "--image", "16", "--batch", "8", "--fresh", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var o = doc.RootElement;
        Assert.Equal(66, o.GetProperty("images").GetInt32());
        Assert.Equal(3, o.GetProperty("classes").GetInt32());
        // 60 training images, 6 held out (a tenth) as a search holds them out.
        Assert.Equal(54, o.GetProperty("stream_images").GetInt32());
        // Magic, header (the key, size, classes, split names), labels, pixels, checksum.
        var records = 8 + 4 + 66 * (2 + 3 * 16 * 16) + 32;
        Assert.InRange(o.GetProperty("cache_bytes").GetInt64(), records + 2 * Root.Length, records + 2 * Root.Length + 100);
        Assert.True(o.GetProperty("decode_images_per_s").GetDouble() > 0);
        Assert.True(o.GetProperty("stream_images_per_s").GetDouble() > 0);
        Assert.InRange(o.GetProperty("peak_anon_mb").GetDouble(), 1, 100_000);
        Assert.Equal("auto (cifar)", o.GetProperty("augment").GetString());
        // --fresh decodes into a cache of its own, deleted after.
        Assert.False(Directory.Exists(Cache) && Directory.GetFiles(Cache, "*.nasimg").Length > 0);
    }
}
