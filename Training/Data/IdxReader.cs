using System.Buffers.Binary;
using System.IO.Compression;

namespace NasActors.Training.Data;

/// <summary>The IDX format of MNIST and Fashion-MNIST, raw or gzip-compressed (detected by content).</summary>
public static class IdxReader
{
    private const int ImagesMagic = 0x00000803;
    private const int LabelsMagic = 0x00000801;

    /// <summary>Fashion-MNIST's classes in label order (its README).</summary>
    public static readonly string[] FashionClassNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <param name="classNames">the classes' names in label order (default: the digits)</param>
    public static ImageDataset Read(string imagesFile, string labelsFile, string name, int classes = 10, IReadOnlyList<string>? classNames = null)
    {
        var images = Load(imagesFile);
        var labels = Load(labelsFile);
        Header(images, imagesFile, ImagesMagic, "images (0x00000803)");
        Header(labels, labelsFile, LabelsMagic, "labels (0x00000801)");
        var count = BinaryPrimitives.ReadInt32BigEndian(images.AsSpan(4));
        var rows = BinaryPrimitives.ReadInt32BigEndian(images.AsSpan(8));
        var cols = BinaryPrimitives.ReadInt32BigEndian(images.AsSpan(12));
        var labelCount = BinaryPrimitives.ReadInt32BigEndian(labels.AsSpan(4));
        if (count <= 0 || rows <= 0 || cols <= 0 || rows > 4096 || cols > 4096)
            throw new DatasetFormatException(imagesFile, $"implausible dimensions {count} x {rows} x {cols}");
        var expected = 16L + (long)count * rows * cols;
        if (images.Length != expected)
            throw new DatasetFormatException(imagesFile, Size(images.Length, expected, $"{count} images of {rows}x{cols}"));
        if (labels.Length != 8L + labelCount)
            throw new DatasetFormatException(labelsFile, Size(labels.Length, 8L + labelCount, $"{labelCount} labels"));
        if (labelCount != count)
            throw new DatasetFormatException(labelsFile, $"has {labelCount} labels for the {count} images of {Path.GetFileName(imagesFile)}");
        var labelBytes = labels[8..];
        var bad = Array.FindIndex(labelBytes, l => l >= classes);
        if (bad >= 0)
            throw new DatasetFormatException(labelsFile, $"label {labelBytes[bad]} at item {bad} is not one of {classes} classes");
        return new ImageDataset(name, 1, rows, cols, classes, images[16..], [.. labelBytes.Select(l => (ushort)l)], classNames);
    }

    private static string Size(long actual, long expected, string what) =>
        actual < expected
            ? $"truncated: {actual} bytes, expected {expected} for {what}"
            : $"wrong size: {actual} bytes, expected {expected} for {what}";

    private static void Header(byte[] data, string file, int magic, string what)
    {
        if (data.Length < (magic == ImagesMagic ? 16 : 8))
            throw new DatasetFormatException(file, $"truncated: {data.Length} bytes is shorter than the IDX header");
        var actual = BinaryPrimitives.ReadInt32BigEndian(data);
        if (actual != magic)
            throw new DatasetFormatException(file, $"wrong magic number 0x{actual:x8}, expected IDX {what}");
    }

    private static byte[] Load(string file)
    {
        byte[] raw;
        try
        {
            raw = File.ReadAllBytes(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DatasetFormatException(file, $"cannot read: {e.Message}");
        }
        if (raw.Length < 2 || raw[0] != 0x1f || raw[1] != 0x8b)
            return raw;
        try
        {
            using var gz = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
            using var output = new MemoryStream();
            gz.CopyTo(output);
            // .NET stops quietly at a cut-off deflate stream; the gzip trailer's size catches it.
            var expected = BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(raw.Length - 4));
            if ((uint)output.Length != expected)
                throw new DatasetFormatException(file, $"corrupt gzip data: decompressed {output.Length} bytes, the gzip trailer says {expected} (truncated or damaged file)");
            return output.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new DatasetFormatException(file, $"corrupt gzip data: {e.Message}");
        }
    }
}
