using NasActors.Protocol;

namespace NasActors.Training.Data;

/// <summary>The training set, a validation set held out from it, and the test set.</summary>
public sealed record DataSplits(ImageDataset Train, ImageDataset Validation, ImageDataset Test, bool HorizontalFlip, int CropPadding)
{
    /// <summary>The validation images held out where none are asked for: a tenth of the training images, at least 1, at most 5,000 (the paper's).</summary>
    public static int DefaultValidationSize(int trainImages) => Math.Clamp(trainImages / 10, 1, 5000);

    /// <summary>
    /// Holds out <paramref name="validationSize"/> training images, chosen by <paramref name="seed"/>
    /// (the paper holds out 5,000 of CIFAR-10's 50,000); <paramref name="trainLimit"/> caps the rest.
    /// </summary>
    public static DataSplits Create(DatasetPair data, int validationSize, int? trainLimit, int seed)
    {
        var n = data.Train.Count;
        if (validationSize < 1 || validationSize >= n)
            throw new InputException($"validation size must be between 1 and {n - 1} for {data.Train.Name} ({n} images), got {validationSize}");
        if (trainLimit is < 1)
            throw new InputException($"train limit must be positive, got {trainLimit}");
        var order = Enumerable.Range(0, n).ToArray();
        new Random(seed).Shuffle(order);
        var validation = order[..validationSize];
        var train = order[validationSize..];
        if (trainLimit is { } limit && limit < train.Length)
            train = train[..limit];
        return new DataSplits(
            data.Train.Subset(train, data.Train.Name),
            data.Train.Subset(validation, data.Train.Name + "/validation"),
            data.Test, data.HorizontalFlip, data.CropPadding);
    }
}
