namespace NasActors.Training;

/// <summary>
/// How a child is trained: SGD with momentum and weight decay, cosine learning rate from
/// <see cref="LearningRate"/> to 0 over all steps, optional label smoothing, gradient clipping,
/// auxiliary loss and augmentation. <see cref="Seed"/> fixes initialisation, order and augmentation.
/// </summary>
public sealed record TrainingConfig
{
    public int Epochs { get; init; } = 1;
    public int BatchSize { get; init; } = 64;
    public double LearningRate { get; init; } = 0.05;
    public double Momentum { get; init; } = 0.9;
    public double WeightDecay { get; init; } = 3e-4;
    public double LabelSmoothing { get; init; }
    public double? GradientClip { get; init; } = 5.0;
    public double AuxLossWeight { get; init; } = 0.4;
    public Data.AugmentKind Augment { get; init; }
    public int CutoutSize { get; init; }
    public int Seed { get; init; }

    /// <summary>fp32, or bf16/fp16 weights and activations with fp32 master weights (<see cref="Tensors.MasterWeights"/>).</summary>
    public Tensors.Precision Precision { get; init; }

    /// <summary>Batches in channels-last (NHWC) memory order; convolutions follow their input's order.</summary>
    public bool ChannelsLast { get; init; }

    /// <summary>cuDNN autotuning (process-wide; only CUDA devices use it).</summary>
    public bool CudnnBenchmark { get; init; }

    /// <summary>
    /// The epochs (1-based) whose validation accuracy is measured, besides the last (null: every
    /// epoch). An early-stopped search needs it only at its rungs; the others report NaN.
    /// </summary>
    public IReadOnlySet<int>? ValidateAt { get; init; }

    /// <summary>Training steps between checks of the loss for NaN/inf (each check waits for the device).</summary>
    public int FiniteCheckEvery { get; init; } = 20;

    /// <summary>What is wrong with these settings; NaN fails every range (written so that it does).</summary>
    public IReadOnlyList<string> Errors()
    {
        var errors = new List<string>();
        if (Epochs < 1) errors.Add($"epochs must be at least 1, got {Epochs}");
        if (BatchSize < 1) errors.Add($"batch size must be at least 1, got {BatchSize}");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) errors.Add($"learning rate must be positive, got {LearningRate}");
        if (!(Momentum is >= 0 and < 1)) errors.Add($"momentum must be in [0, 1), got {Momentum}");
        if (!(WeightDecay >= 0) || double.IsInfinity(WeightDecay)) errors.Add($"weight decay must be a number, not negative, got {WeightDecay}");
        if (!(LabelSmoothing is >= 0 and < 1)) errors.Add($"label smoothing must be in [0, 1), got {LabelSmoothing}");
        if (GradientClip is { } clip && !(clip > 0)) errors.Add($"gradient clip must be positive, got {GradientClip}");
        if (CutoutSize < 0) errors.Add($"cutout size must not be negative, got {CutoutSize}");
        if (FiniteCheckEvery < 1) errors.Add($"finite-check interval must be at least 1, got {FiniteCheckEvery}");
        return errors;
    }
}

/// <summary>One finished epoch, as reported to progress callbacks and stored in checkpoints.</summary>
public sealed record EpochReport(int Epoch, int Epochs, double TrainLoss, double TrainAccuracy, double ValidationAccuracy, double LearningRate, double Seconds);

/// <summary>
/// A trained child: the reward is <see cref="ValidationAccuracy"/>; <see cref="ResumedEpochs"/>:
/// epochs restored from a checkpoint, not trained again; <see cref="CheckpointProblem"/>: the last
/// checkpoint that could not be written, if one could not.
/// </summary>
public sealed record TrainingResult(
    double ValidationAccuracy,
    double? TestAccuracy,
    double FinalTrainLoss,
    long Parameters,
    long MultAdds,
    double Seconds,
    IReadOnlyList<EpochReport> History)
{
    public int ResumedEpochs { get; init; }

    public string? CheckpointProblem { get; init; }
}

public enum FailureKind
{
    NonFiniteLoss,
    OutOfMemory,
    InvalidConfiguration,
    Checkpoint,
}

/// <summary>A child that could not be trained; the process and anything stored are unharmed.</summary>
public sealed class TrainingFailedException(FailureKind kind, string message, Exception? inner = null) : Exception(message, inner)
{
    public FailureKind Kind { get; } = kind;
}
