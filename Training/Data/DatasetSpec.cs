using NasActors.Training.Networks;
using NasActors.Protocol;

namespace NasActors.Training.Data;

/// <summary>Training and test sets of one dataset, with the augmentation that suits it.</summary>
public sealed record DatasetPair(ImageDataset Train, ImageDataset Test, bool HorizontalFlip)
{
    /// <summary>Padding for random crops: 4 pixels at 32x32, as is usual for CIFAR.</summary>
    public int CropPadding => Math.Max(1, Train.Height / 8);
}

/// <summary>
/// A dataset named on the command line: <c>fashion-mnist[:DIR]</c>, <c>mnist:DIR</c>,
/// <c>cifar10:DIR</c>, <c>folder:DIR</c> (image folders, <see cref="ImageFolderReader"/>), or
/// <c>fashion-mnist-mini</c> (the real subset bundled with nas).
/// </summary>
public sealed record DatasetSpec(string Kind, string Directory)
{
    public const string Default = "fashion-mnist-mini";
    public const string Help = "fashion-mnist[:DIR], mnist:DIR, cifar10:DIR, folder:DIR (DIR/train/CLASS/*, DIR/test/CLASS/*) or fashion-mnist-mini (bundled subset)";
    public const string DebianFashionMnist = "/usr/share/datasets/fashion-mnist";

    public static string BundledDirectory => Path.Combine(AppContext.BaseDirectory, "data", "fashion-mnist-mini");

    public override string ToString() => Kind == "fashion-mnist-mini" ? Kind : $"{Kind}:{Directory}";

    public static DatasetSpec Parse(string spec)
    {
        var colon = spec.IndexOf(':');
        var kind = (colon < 0 ? spec : spec[..colon]).Trim().ToLowerInvariant();
        var dir = colon < 0 ? null : spec[(colon + 1)..];
        if (dir is { Length: 0 })
            throw new InputException(TrainingInputs.Dataset, $"\"{spec}\": empty directory after ':'");
        return kind switch
        {
            "fashion-mnist-mini" when dir is null => new(kind, BundledDirectory),
            "fashion-mnist" => new(kind, dir ?? DebianFashionMnist),
            "mnist" or "cifar10" or "folder" when dir is not null => new(kind, dir),
            "mnist" or "cifar10" or "folder" => throw new InputException(TrainingInputs.Dataset, $"\"{spec}\": give its folder, as {kind}:DIR"),
            _ => throw new InputException(TrainingInputs.Dataset, $"unknown dataset \"{spec}\" (expected {Help})"),
        };
    }

    /// <param name="imageSize">the network's input size: image folders are resized to it (default 32); other datasets have their own</param>
    public DatasetPair Load(int? imageSize = null)
    {
        RequireFolder();
        if (imageSize is not null && Kind != "folder")
            throw new InputException("--image", $"resizes folder: datasets only; {this} has images of its own size");
        if (imageSize is { } size) NetworkConfig.CheckImageSize(size);
        return Kind switch
        {
            "folder" => ImageFolderReader.Read(Directory, imageSize ?? ImageFolderReader.DefaultImageSize),
            "cifar10" => new DatasetPair(
                Cifar10Reader.Read(Cifar10Reader.TrainFiles.Select(Find), "cifar10/train"),
                Cifar10Reader.Read([Find(Cifar10Reader.TestFile)], "cifar10/test"),
                HorizontalFlip: true),
            _ => new DatasetPair(
                IdxReader.Read(Find("train-images-idx3-ubyte"), Find("train-labels-idx1-ubyte"), $"{Kind}/train", classNames: ClassNames),
                IdxReader.Read(Find("t10k-images-idx3-ubyte"), Find("t10k-labels-idx1-ubyte"), $"{Kind}/test", classNames: ClassNames),
                // Digits change meaning when mirrored; clothes do not.
                HorizontalFlip: Kind != "mnist"),
        };
    }

    /// <summary>
    /// What a network for this dataset takes, without reading an image: channels, image size and
    /// classes (a folder's are its train/ subfolders). What a child's costs are planned at.
    /// </summary>
    public (int Channels, int Size, int Classes) Shape(int? imageSize = null)
    {
        if (Kind != "folder") return Kind == "cifar10" ? (3, 32, 10) : (1, 28, 10);
        var train = Path.Combine(Directory, "train");
        if (!System.IO.Directory.Exists(train)) throw new DatasetFormatException(train, "no train/ folder (expected DIR/train/CLASS/* and DIR/test/CLASS/*)");
        return (3, imageSize ?? ImageFolderReader.DefaultImageSize, System.IO.Directory.GetDirectories(train).Length);
    }

    private IReadOnlyList<string>? ClassNames => Kind == "mnist" ? null : IdxReader.FashionClassNames;

    private void RequireFolder()
    {
        if (System.IO.Directory.Exists(Directory)) return;
        var hint = Kind == "fashion-mnist" && Directory == DebianFashionMnist
            ? " (install Debian's dataset-fashion-mnist package, name a folder with fashion-mnist:DIR, or use fashion-mnist-mini)"
            : "";
        throw new DatasetFormatException(Directory, $"no such folder for dataset {Kind}{hint}");
    }

    private string Find(string name)
    {
        foreach (var candidate in new[] { name, name + ".gz" })
        {
            var path = Path.Combine(Directory, candidate);
            if (File.Exists(path)) return path;
        }
        throw new DatasetFormatException(Path.Combine(Directory, name), $"missing file for dataset {Kind} (looked for {name} and {name}.gz)");
    }
}
