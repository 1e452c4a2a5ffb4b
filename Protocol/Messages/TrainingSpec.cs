using System.Text.Json.Serialization;

namespace NasActors.Protocol.Messages;

/// <summary>
/// How a child is trained, sent with each job so that workers on any node need no search
/// configuration of their own. Trainers use what applies to them (the synthetic one: nothing).
/// The speed options come last and are left out of the stored form at their defaults, so that
/// journals written before them read, and write, byte for byte as they did.
/// </summary>
public sealed record TrainingSpec(
    SearchSpace.CellCounts Cells,
    int Filters,
    int Epochs,
    int BatchSize,
    double LearningRate,
    string Dataset,
    int ValidationSize,
    int? TrainLimit,
    double DropPathKeep,
    int TimeoutSeconds,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Precision = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] bool ChannelsLast = false,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] bool CudnnBenchmark = false,
    // The network's input size for image-folder datasets (they are resized to it); null: the dataset's own (32 for folders).
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Image = null,
    // How training batches are varied (one of Augmentations); null: auto (by image size).
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Augment = null)
{
    public static readonly IReadOnlyList<string> Precisions = ["fp32", "bf16", "fp16"];

    public static readonly IReadOnlyList<string> Augmentations = ["auto", "cifar", "imagenet", "none"];
}
