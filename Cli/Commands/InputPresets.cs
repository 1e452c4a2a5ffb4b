using NasActors.Training.Data;
using NasActors.Protocol;
using NasActors.Training.Networks;

namespace NasActors.Cli.Commands;

/// <summary>
/// The input shapes <c>model</c> and <c>export</c> know by name, with the per-channel statistics
/// and class names usually used for them (an exported network's test-time preprocessing).
/// </summary>
public static class InputPresets
{
    public sealed record Preset(int Channels, int Size, int Classes, float[] Mean, float[] Std, IReadOnlyList<string>? ClassNames = null)
    {
        /// <summary>The preprocessing for <paramref name="size"/> pixels and <paramref name="classes"/> classes.</summary>
        public Preprocessing For(int size, int classes) =>
            new(size, Channels, Mean, Std, classes == Classes && ClassNames is not null
                ? ClassNames
                : [.. Enumerable.Range(0, classes).Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
    }

    public static readonly IReadOnlyDictionary<string, Preset> ByName = new Dictionary<string, Preset>
    {
        ["cifar10"] = new(3, 32, 10, [0.4914f, 0.4822f, 0.4465f], [0.2470f, 0.2435f, 0.2616f], Cifar10Reader.ClassNames),
        ["imagenet"] = new(3, 224, 1000, [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]),
        ["fashion-mnist"] = new(1, 28, 10, [0.2860f], [0.3530f], IdxReader.FashionClassNames),
        ["mnist"] = new(1, 28, 10, [0.1307f], [0.3081f]),
    };

    public const string Help = "input shape preset: cifar10, imagenet, fashion-mnist or mnist; or folder:DIR (an image folder: its classes, and the mean and std of its training images)";

    /// <summary>
    /// The preset <paramref name="dataset"/> names, or an image folder's own (read at
    /// <paramref name="image"/> pixels, default 32): its class names, and the per-channel mean and
    /// standard deviation of all its training images (a training of it normalises by those of its
    /// training split, the held-out images left out: within a rounding of these).
    /// </summary>
    /// <param name="statistics">false where only the shape and classes are used: the training images are not read for MEAN/STD (they are zero)</param>
    public static Preset Resolve(string dataset, int? image, bool statistics = true)
    {
        if (ByName.TryGetValue(dataset, out var preset)) return preset;
        if (!dataset.StartsWith("folder:", StringComparison.Ordinal))
            throw new InputException("--dataset", $"unknown input \"{dataset}\" (expected {Help})");
        DatasetPair pair;
        try
        {
            pair = DatasetSpec.Parse(dataset).Load(image ?? ImageFolderReader.DefaultImageSize);
        }
        catch (DatasetFormatException e)
        {
            throw new InputException("--dataset", e.Message);
        }
        var (mean, std) = statistics ? pair.Train.ChannelStatistics() : (new float[pair.Train.Channels], new float[pair.Train.Channels]);
        return new Preset(pair.Train.Channels, pair.Train.Height, pair.Train.Classes, mean, std, pair.Train.ClassNames);
    }
}
