using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using NasActors.Training.Networks;
using SkiaSharp;

namespace NasActors.Training.Data;

/// <summary>
/// Image folders as torchvision's ImageFolder reads them: <c>DIR/train/CLASS/*</c> and
/// <c>DIR/test/CLASS/*</c> (or <c>val/</c> where there is no <c>test/</c>), classes sorted by name,
/// JPEG, PNG, BMP, WebP and GIF of any size, grayscale or colour (made RGB, alpha dropped, as
/// <c>convert("RGB")</c> does). Each image is resized so its shorter side is the network's size
/// and centre-cropped square. Decoded once per folder state and size and machine, on every core:
/// the images are kept in one file of records (<see cref="ImageCache"/>, under <see cref="CacheDirectory"/>)
/// keyed by every file's path, size and time, which training reads where it lies.
/// </summary>
public static class ImageFolderReader
{
    public const int DefaultImageSize = 32;
    public const string CacheVariable = "NAS_CACHE_DIR";

    private static readonly string[] Extensions = [".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif"];

    /// <summary>Where decoded datasets are kept: NAS_CACHE_DIR, else $XDG_CACHE_HOME/nas/images, else ~/.cache/nas/images.</summary>
    public static string CacheDirectory =>
        Environment.GetEnvironmentVariable(CacheVariable) is { Length: > 0 } dir
            ? dir
            : Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
                ? xdg
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "nas", "images");

    /// <summary>The dataset in <paramref name="root"/> at <paramref name="size"/> pixels; a problem names the file or folder.</summary>
    public static DatasetPair Read(string root, int size)
    {
        try
        {
            return ReadFolders(root, size);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A folder that cannot be listed, a file gone while it was read.
            throw new DatasetFormatException(root, $"cannot be read: {e.Message}");
        }
    }

    private static DatasetPair ReadFolders(string root, int size)
    {
        NetworkConfig.CheckImageSize(size);
        var trainDir = Path.Combine(root, "train");
        if (!Directory.Exists(trainDir)) throw new DatasetFormatException(trainDir, "no train/ folder (expected DIR/train/CLASS/* and DIR/test/CLASS/*)");
        var classes = Directory.GetDirectories(trainDir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        if (classes.FirstOrDefault(c => NotUtf8(c!)) is { } garbled)
            throw new DatasetFormatException(Path.Combine(trainDir, garbled), NameNotUtf8);
        if (classes.Length == 0) throw new DatasetFormatException(trainDir, "no class folders (expected train/CLASS/*)");
        if (classes.Length > ImageDataset.MaxClasses)
            throw new DatasetFormatException(trainDir, $"{classes.Length} classes; nas keeps a label in 16 bits, at most {ImageDataset.MaxClasses} classes");
        var testDir = new[] { "test", "val" }.Select(d => Path.Combine(root, d)).FirstOrDefault(Directory.Exists)
            ?? throw new DatasetFormatException(Path.Combine(root, "test"), "no test/ (or val/) folder");
        var strayTest = Directory.GetDirectories(testDir).Select(Path.GetFileName).Where(c => !classes.Contains(c)).Order(StringComparer.Ordinal).FirstOrDefault();
        if (strayTest is not null) throw new DatasetFormatException(Path.Combine(testDir, strayTest!), "a test class that train/ does not have");

        var train = Files(trainDir, classes!, requireEach: true);
        var test = Files(testDir, classes!, requireEach: false);
        if (test.Count == 0) throw new DatasetFormatException(testDir, "no images");
        var key = Key(root, size, train.Concat(test));
        var cache = Path.Combine(CacheDirectory, key + ".nasimg");
        var names = classes.Select(c => c!).ToArray();
        if (ImageCache.Open(cache, key, size, names) is { } cached) return cached;

        var splits = new[] { (Files: train, Name: $"{root}/train"), (Files: test, Name: $"{root}/{Path.GetFileName(testDir)}") };
        string problem;
        try
        {
            // One decode per machine: whoever holds the lock decodes; the others wait, then read its cache.
            using var held = ImageCache.Lock(cache, () => Console.Error.WriteLine($"nas: waiting for another process to decode {root} at {size} px"));
            if (ImageCache.Open(cache, key, size, names) is { } built) return built;
            ImageCache.Write(cache, key, size, names, [.. splits.Select(s => new ImageCache.Split(s.Name, [.. s.Files.Select(f => f.Label)]))],
                (i, first, count, target) => DecodeChunk(splits[i].Files, first, count, size, target));
            if (ImageCache.Open(cache, key, size, names, written: true) is { } written) return written;
            problem = "the file written did not read back";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = e.Message;
        }

        // No cache (a full disk, a folder not writable): decoded into memory where each split fits in one array.
        var bytes = 3L * size * size;
        if (splits.FirstOrDefault(s => s.Files.Count * bytes > Array.MaxLength) is { Name: not null } large)
            throw new DatasetFormatException(root, $"its decoded images cannot be kept in {CacheDirectory} ({problem}), and {large.Name}'s {large.Files.Count * bytes / (double)(1L << 30):F1} GiB "
                + $"do not fit in memory: free space there or set {CacheVariable} to a folder with room");
        Console.Error.WriteLine($"nas: cannot keep decoded images in {CacheDirectory} ({problem}); they are decoded again next time (set {CacheVariable} to a writable folder with room)");
        var parts = splits.Select(s =>
        {
            var pixels = new byte[s.Files.Count * bytes];
            DecodeChunk(s.Files, 0, s.Files.Count, size, pixels);
            return new ImageDataset(s.Name, 3, size, size, classes.Length, pixels, [.. s.Files.Select(f => f.Label)], names);
        }).ToArray();
        return new DatasetPair(parts[0], parts[1], HorizontalFlip: true);
    }

    private static List<(string Path, ushort Label)> Files(string dir, string?[] classes, bool requireEach)
    {
        var files = new List<(string, ushort)>();
        for (var c = 0; c < classes.Length; c++)
        {
            var classDir = Path.Combine(dir, classes[c]!);
            var images = Directory.Exists(classDir)
                ? Directory.GetFiles(classDir).Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant())).Order(StringComparer.Ordinal).ToArray()
                : [];
            if (images.FirstOrDefault(NotUtf8) is { } garbled)
                throw new DatasetFormatException(garbled, NameNotUtf8);
            if (images.Length == 0 && requireEach)
                throw new DatasetFormatException(classDir, $"no images in class folder (expected {string.Join(", ", Extensions)})");
            files.AddRange(images.Select(f => (f, (ushort)c)));
        }
        return files;
    }

    /// <summary>What the decoded images depend on: each file's path, size and time, and the size decoded to.</summary>
    private static string Key(string root, int size, IEnumerable<(string Path, ushort Label)> files)
    {
        var sb = new StringBuilder($"{Path.GetFullPath(root)}\n{size}\n");
        foreach (var (path, label) in files)
        {
            var info = new FileInfo(path);
            sb.Append(Path.GetRelativePath(root, path)).Append('\t').Append(label).Append('\t').Append(info.Length).Append('\t').Append(info.LastWriteTimeUtc.Ticks).Append('\n');
        }
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())))[..32].ToLowerInvariant();
    }

    /// <summary>Decodes <paramref name="count"/> files from <paramref name="first"/> into the start of <paramref name="target"/>, on every core; the first broken file in folder order is thrown.</summary>
    private static void DecodeChunk(List<(string Path, ushort Label)> files, int first, int count, int size, byte[] target)
    {
        var bytes = 3 * size * size;
        var errors = new DatasetFormatException?[count];
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            try
            {
                DecodeInto(files[first + i].Path, size, target.AsSpan(i * bytes, bytes));
            }
            catch (DatasetFormatException e)
            {
                errors[i] = e;
            }
        });
        if (errors.FirstOrDefault(e => e is not null) is { } firstError) throw firstError;
    }

    // .NET reads a file name that is not UTF-8 with U+FFFD in place of its bytes, and cannot open it by that name.
    private const string NameNotUtf8 = "its name is not UTF-8 (shown with \uFFFD), so it cannot be opened by name: rename it";

    private static bool NotUtf8(string name) => name.Contains('\uFFFD', StringComparison.Ordinal);

    /// <summary>The largest image decoded (a header claiming more is refused before its pixels are allocated).</summary>
    public const long MaxPixels = 100_000_000;

    /// <summary>One image as planar RGB bytes (C x H x W): shorter side to <paramref name="size"/>, centre crop.</summary>
    public static void DecodeInto(string path, int size, Span<byte> target)
    {
        try
        {
            Decode(path, size, target);
        }
        catch (Exception e) when (e is not DatasetFormatException)
        {
            throw new DatasetFormatException(path, $"cannot be decoded: {e.Message}");
        }
    }

    private static void Decode(string path, int size, Span<byte> target)
    {
        // Read whole first: SkiaSharp reads a stream from a native callback, where an I/O error
        // (a failing disk, a FUSE mount) cannot be caught and aborts the process.
        using var stream = new MemoryStream(ReadAll(path), writable: false);
        using var codec = SKCodec.Create(stream, out var opened)
            ?? throw new DatasetFormatException(path, opened == SKCodecResult.IncompleteInput
                ? "not a readable image (too short to be one: truncated, or not JPEG, PNG, BMP, WebP or GIF)"
                : $"not a readable image ({opened}: not JPEG, PNG, BMP, WebP or GIF, or damaged)");
        var (w, h) = (codec.Info.Width, codec.Info.Height);
        if (w < 1 || h < 1) throw new DatasetFormatException(path, $"image of {w}x{h} pixels");
        if ((long)w * h > MaxPixels) throw new DatasetFormatException(path, $"image of {w}x{h} pixels is larger than nas decodes ({MaxPixels / 1_000_000} megapixels)");
        var info = new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var full = new SKBitmap(info);
        var result = codec.GetPixels(info, full.GetPixels());
        if (result != SKCodecResult.Success)
            throw new DatasetFormatException(path, result == SKCodecResult.IncompleteInput ? $"truncated image (its {w}x{h} pixels end early)" : $"damaged image ({result})");

        var scale = size / (double)Math.Min(w, h);
        var (rw, rh) = (Math.Max(size, (int)Math.Round(w * scale)), Math.Max(size, (int)Math.Round(h * scale)));
        using var resized = full.Resize(new SKImageInfo(rw, rh, SKColorType.Rgba8888, SKAlphaType.Unpremul), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear))
            ?? throw new DatasetFormatException(path, $"cannot be resized from {w}x{h} to {rw}x{rh}");
        var (left, top) = ((rw - size) / 2, (rh - size) / 2);
        var src = resized.GetPixelSpan();
        var rowBytes = resized.RowBytes;
        var plane = size * size;
        for (var y = 0; y < size; y++)
        {
            var row = src.Slice((top + y) * rowBytes + left * 4, size * 4);
            for (var x = 0; x < size; x++)
            {
                target[y * size + x] = row[4 * x];
                target[plane + y * size + x] = row[4 * x + 1];
                target[2 * plane + y * size + x] = row[4 * x + 2];
            }
        }
    }

    private static byte[] ReadAll(string path)
    {
        try
        {
            // A pipe (or a device) named like an image would block its reader for good, or never end
            // (/dev/zero); an image file is never empty. A link is judged by what it finally names.
            var info = new FileInfo(path);
            if (info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is FileInfo target) info = target;
            if (info.Exists && info.Length == 0)
                throw new DatasetFormatException(path, "empty, or not a regular file (a pipe, socket or device)");
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DatasetFormatException(path, $"cannot read: {e.Message}");
        }
    }
}
