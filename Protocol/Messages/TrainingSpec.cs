namespace NasActors.Protocol.Messages;

/// <summary>
/// How a child is trained, sent with each job so that workers on any node need no search
/// configuration of their own. Trainers use what applies to them (the synthetic one: nothing).
/// </summary>
public sealed record TrainingSpec(
    int Cells,
    int Filters,
    int Epochs,
    int BatchSize,
    double LearningRate,
    string Dataset,
    int ValidationSize,
    int? TrainLimit,
    double DropPathKeep,
    int TimeoutSeconds);
