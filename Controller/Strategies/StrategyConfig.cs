using NasActors.SearchSpace;

namespace NasActors.Controller.Strategies;

/// <summary>PPO settings; the defaults are the paper's (Zoph et al. 2017, section 4).</summary>
public sealed record PpoSettings
{
    public int HiddenSize { get; init; } = PaperSettings.ControllerHiddenSize;
    public double InitRange { get; init; } = PaperSettings.ControllerInitRange;
    public double LearningRate { get; init; } = PaperSettings.PpoLearningRate;
    public double EntropyWeight { get; init; } = PaperSettings.PpoEntropyWeight;
    public double BaselineDecay { get; init; } = PaperSettings.BaselineDecay;
    public int Minibatch { get; init; } = PaperSettings.PpoMinibatch;
    public double ClipRatio { get; init; } = 0.2;

    /// <summary>Optimisation passes over each minibatch of observations (the paper's: one).</summary>
    public int Epochs { get; init; } = PaperSettings.PpoEpochs;

    /// <summary>Advantages scaled to zero mean and unit spread within each minibatch (the paper's: no).</summary>
    public bool NormalizeAdvantages { get; init; }

    /// <summary>Architectures sampled per pass of the LSTM (the batch dimension amortises its cost).</summary>
    public int SampleBatch { get; init; } = 20;
}

/// <summary>Regularized ("aging") evolution settings (Real et al. 2019).</summary>
public sealed record EvolutionSettings
{
    public int Population { get; init; } = 100;
    public int SampleSize { get; init; } = 25;
}

/// <summary>What a strategy learns from a child stopped early at a rung.</summary>
public enum StoppedChildren
{
    /// <summary>Nothing: the child only leaves the pending proposals.</summary>
    Ignore,

    /// <summary>The child counts as trained, with its accuracy at the rung as the reward.</summary>
    RungAccuracy,
}

/// <summary>Which strategy, its seed and settings. <see cref="FailureReward"/> is what a failed child counts as.</summary>
public sealed record StrategyConfig
{
    public string Kind { get; init; } = "ppo";
    public long Seed { get; init; }
    public string Space { get; init; } = SearchSpaces.DefaultName;
    public int Blocks { get; init; } = GenotypeValidator.DefaultBlocks;
    public double FailureReward { get; init; }
    public PpoSettings Ppo { get; init; } = new();
    public EvolutionSettings Evolution { get; init; } = new();

    /// <summary>Evolution selects parents by Pareto rank over the objectives (a search of several), not by reward.</summary>
    public bool Pareto { get; init; }

    /// <summary>What stopped children teach (null: the strategy's own choice).</summary>
    public StoppedChildren? Stopped { get; init; }

    public IReadOnlyList<string> Errors()
    {
        var errors = new List<string>();
        if (!StrategyCatalog.Names.Contains(Kind)) errors.Add($"unknown strategy \"{Kind}\" (expected {string.Join(", ", StrategyCatalog.Names)})");
        if (SearchSpaces.Find(Space) is null) errors.Add($"unknown search space \"{Space}\" (expected {string.Join(", ", SearchSpaces.Names)})");
        if (Blocks < 1) errors.Add($"blocks must be at least 1, got {Blocks}");
        if (!double.IsFinite(FailureReward)) errors.Add("failure reward must be a finite number");
        if (Ppo.HiddenSize < 1) errors.Add($"ppo hidden size must be at least 1, got {Ppo.HiddenSize}");
        if (!(Ppo.LearningRate > 0)) errors.Add($"ppo learning rate must be positive, got {Ppo.LearningRate}");
        if (Ppo.EntropyWeight < 0) errors.Add($"ppo entropy weight must not be negative, got {Ppo.EntropyWeight}");
        if (Ppo.BaselineDecay is < 0 or >= 1) errors.Add($"ppo baseline decay must be in [0, 1), got {Ppo.BaselineDecay}");
        if (Ppo.Minibatch < 1) errors.Add($"ppo minibatch must be at least 1, got {Ppo.Minibatch}");
        if (Ppo.ClipRatio is <= 0 or >= 1) errors.Add($"ppo clip ratio must be in (0, 1), got {Ppo.ClipRatio}");
        if (Ppo.Epochs < 1) errors.Add($"ppo epochs must be at least 1, got {Ppo.Epochs}");
        if (Ppo.SampleBatch < 1) errors.Add($"ppo sample batch must be at least 1, got {Ppo.SampleBatch}");
        if (Evolution.Population < 2) errors.Add($"evolution population must be at least 2, got {Evolution.Population}");
        if (Evolution.SampleSize < 1 || Evolution.SampleSize > Evolution.Population)
            errors.Add($"evolution sample size must be between 1 and the population ({Evolution.Population}), got {Evolution.SampleSize}");
        return errors;
    }
}
