using System.Collections.Immutable;
using System.Text.Json.Serialization;
using NasActors.Protocol.Messages;
using NasActors.SearchSpace;

namespace NasActors.Search;

/// <summary>
/// Everything that defines a search, stored in its first event and in the run folder's run.json.
/// A resumed search must have the same settings, except a larger <see cref="Budget"/>.
/// </summary>
public sealed record SearchSettings
{
    public string Strategy { get; init; } = "ppo";
    public long Seed { get; init; }
    public int Budget { get; init; } = 10;
    private readonly int? blocks;
    private readonly string? space;

    /// <summary>
    /// The search space by name (<see cref="SearchSpaces"/>), stored only when it is not NASNet's:
    /// runs from before spaces, and every NASNet run, keep their stored bytes. Read <see cref="SpaceName"/>.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Space
    {
        get => space;
        init => space = value == SearchSpaces.DefaultName ? null : value;
    }

    [JsonIgnore]
    public string SpaceName => space ?? SearchSpaces.DefaultName;

    /// <summary>B, blocks per cell: the space's own unless given (the stored form always says it).</summary>
    public int Blocks
    {
        get => blocks ?? SearchSpaces.Find(SpaceName)?.DefaultBlocks ?? GenotypeValidator.DefaultBlocks;
        init => blocks = value;
    }

    public string Trainer { get; init; } = "torch";
    public IReadOnlyList<string> Devices { get; init; } = ["cpu"];
    public int WorkersPerDevice { get; init; } = 1;
    public int TopK { get; init; } = 2;
    public double FailureReward { get; init; }
    public double PpoLearningRate { get; init; } = SearchSpace.PaperSettings.PpoLearningRate;
    public int PpoMinibatch { get; init; } = SearchSpace.PaperSettings.PpoMinibatch;

    /// <summary>PPO optimisation passes over each minibatch; null: the paper's one (so runs from before this setting replay as they ran).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? PpoEpochs { get; init; }

    /// <summary>PPO advantages normalised within each minibatch; null: not, as in the paper (and runs from before this setting).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? PpoNormalizeAdvantages { get; init; }

    /// <summary>
    /// What a new search starts from: the defaults, with a PPO that learns as fast as the strategies
    /// it competes with (4 passes per minibatch, normalised advantages, learning rate 0.001;
    /// measured in docs/decisions.md). Stored settings without the first two keys are the paper's
    /// PPO, as they ran; <c>"ppo_epochs": 1, "ppo_normalize_advantages": false,
    /// "ppo_learning_rate": 0.00035</c> asks for it in a new search.
    /// </summary>
    public static SearchSettings NewSearch => new() { PpoEpochs = 4, PpoNormalizeAdvantages = true, PpoLearningRate = 0.001 };
    // Snapshots cost O(children) each; recovery replays at most this many events after the last one.
    public int SnapshotEvery { get; init; } = 5000;

    /// <summary>Early stopping of search children (null: every child trains its full budget, as runs before it did).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public EarlyStopSettings? EarlyStop { get; init; }

    /// <summary>
    /// What the search optimises (<see cref="ObjectiveSet.Names"/>): accuracy, and the costs it is
    /// searched against; null: accuracy alone, as the paper (and every run before this setting).
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Objectives { get; init; }

    /// <summary>Upper bounds on costs among the objectives: a child over one is refused untrained (null: none).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, double>? Constraints
    {
        get => constraints;
        // In name order, whatever order they were given in: a resumed search compares its stored form.
        init => constraints = value?.ToImmutableSortedDictionary(StringComparer.Ordinal);
    }

    private readonly IReadOnlyDictionary<string, double>? constraints;

    /// <summary>
    /// How PPO's scalar reward is made from the objectives (<see cref="ObjectiveSet.Rewards"/>), stored
    /// with every new search of several objectives (<see cref="WithDefaultsStored"/>); null in any other.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? PpoReward { get; init; }

    /// <summary>A new search's settings with the choices that depend on others written out, so that a later default cannot change how it goes on.</summary>
    public SearchSettings WithDefaultsStored() =>
        ObjectiveSet.For(this) is not null && PpoReward is null ? this with { PpoReward = ObjectiveSet.DefaultReward } : this;

    /// <summary>The batch a child's inference latency is measured at (null: 1, a phone's or a server's single request).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? LatencyBatch { get; init; }

    // The embedded default is a small real search that ends in minutes on 2 CPU cores.
    public TrainingSpec Search { get; init; } = new(1, 4, 2, 32, 0.1, "fashion-mnist-mini", 500, 1000, 1.0, 3600);
    public TrainingSpec Final { get; init; } = new(1, 8, 2, 64, 0.05, "fashion-mnist-mini", 500, null, 0.8, 7200);

    /// <summary>
    /// Published cells have B = 4 or 5; past this the controller's decisions and every stored child
    /// grow without a network worth training (B = 200 already took 656 MB in the coordinator).
    /// </summary>
    public const int MaxBlocks = 64;

    /// <summary>A training's time limit: the timers that enforce it take at most about 49 days.</summary>
    public const int MaxTimeoutSeconds = 30 * 24 * 3600;

    /// <param name="strategies">The strategies there are (the controller's catalog).</param>
    public IReadOnlyList<string> Errors(IReadOnlyCollection<string> strategies)
    {
        var errors = new List<string>();
        if (!strategies.Contains(Strategy))
            errors.Add($"unknown strategy \"{Strategy}\" (expected {string.Join(", ", strategies)})");
        if (Budget < 1) errors.Add($"budget must be at least 1 child, got {Budget}");
        if (SearchSpaces.Find(SpaceName) is null) errors.Add($"unknown search space \"{SpaceName}\" (expected {string.Join(", ", SearchSpaces.Names)})");
        if (Blocks is < 1 or > MaxBlocks) errors.Add($"blocks must be between 1 and {MaxBlocks}, got {Blocks}");
        if (Devices.Count == 0) errors.Add("at least one device is needed");
        if (WorkersPerDevice < 1) errors.Add($"workers per device must be at least 1, got {WorkersPerDevice}");
        if (TopK < 0) errors.Add($"top-k must not be negative, got {TopK}");
        if (SnapshotEvery < 1) errors.Add($"snapshot interval must be at least 1 event, got {SnapshotEvery}");
        if (PpoMinibatch < 1) errors.Add($"PPO minibatch must be at least 1, got {PpoMinibatch}");
        if (!(PpoLearningRate > 0)) errors.Add($"PPO learning rate must be positive, got {PpoLearningRate}");
        if (PpoEpochs is < 1) errors.Add($"PPO epochs must be at least 1, got {PpoEpochs}");
        if (TrainerSpec.TryParse(Trainer, out var trainerError) is null) errors.Add(trainerError);
        if (EarlyStop is not null) errors.AddRange(EarlyStop.Errors(Search.Epochs));
        errors.AddRange(ObjectiveSet.Errors(this));
        foreach (var (spec, name) in new[] { (Search, "search"), (Final, "final") })
        {
            if (spec.Epochs < 1) errors.Add($"{name} epochs must be at least 1, got {spec.Epochs}");
            if (spec.Filters < 4) errors.Add($"{name} network needs filters >= 4, got {spec.Filters}");
            // Checked here, not when each child trains: one of these would fail every child.
            if (spec.BatchSize < 1) errors.Add($"{name}.batch_size must be at least 1, got {spec.BatchSize}");
            if (!(spec.LearningRate > 0) || double.IsInfinity(spec.LearningRate)) errors.Add($"{name}.learning_rate must be positive, got {spec.LearningRate}");
            if (spec.ValidationSize < 1) errors.Add($"{name}.validation_size must be at least 1, got {spec.ValidationSize}");
            if (spec.TrainLimit is < 1) errors.Add($"{name}.train_limit must be at least 1, got {spec.TrainLimit}");
            if (!(spec.DropPathKeep is > 0 and <= 1)) errors.Add($"{name}.drop_path_keep must be in (0, 1], got {spec.DropPathKeep}");
            if (spec.TimeoutSeconds is < 1 or > MaxTimeoutSeconds) errors.Add($"{name}.timeout_seconds must be between 1 and {MaxTimeoutSeconds} (30 days), got {spec.TimeoutSeconds}");
            if (spec.Precision is { } p && !TrainingSpec.Precisions.Contains(p))
                errors.Add($"{name} precision \"{p}\" is unknown (expected {string.Join(", ", TrainingSpec.Precisions)})");
            if (spec.Augment is { } a && !TrainingSpec.Augmentations.Contains(a))
                errors.Add($"{name} augment \"{a}\" is unknown (expected {string.Join(", ", TrainingSpec.Augmentations)})");
            if (spec.Precision == "fp16" && Devices.Any(d => !d.StartsWith("cuda", StringComparison.Ordinal)))
                errors.Add($"{name} precision fp16 needs CUDA devices, not {string.Join(",", Devices)} (use bf16 on CPUs)");
        }
        return errors;
    }

    /// <summary>How the run's strategy decides: its space with its B.</summary>
    [JsonIgnore]
    public DecisionSpace Decisions => new(SearchSpaces.Get(SpaceName), Blocks);

    /// <summary>The seed a child's training gets: fixed by the run's seed and the child, whichever worker trains it.</summary>
    public int ChildSeed(long childId) => (int)((Seed * 1_000_003 + childId) & 0x7fffffff);

    /// <summary>The time limits of a search child's training and of a final training, in seconds.</summary>
    [JsonIgnore]
    public (int Search, int Final) Timeouts => (Search.TimeoutSeconds, Final.TimeoutSeconds);

    /// <summary>These settings with other time limits for a search child's training and a final training.</summary>
    public SearchSettings WithTimeouts(int search, int final) =>
        this with { Search = Search with { TimeoutSeconds = search }, Final = Final with { TimeoutSeconds = final } };

    /// <summary>Why a resumed search with <paramref name="requested"/> settings cannot continue this one, or null.</summary>
    public string? Incompatibility(SearchSettings requested)
    {
        if (requested.Budget < Budget)
            return $"budget {requested.Budget} is smaller than the run's {Budget} (a budget can only grow)";
        // The devices are the resuming machine's own (a run may move to other hardware), and the time a
        // training may take is the hardware's too: neither changes what the search searches.
        var same = requested.WithTimeouts(Timeouts.Search, Timeouts.Final) with { Budget = Budget, Devices = Devices, WorkersPerDevice = WorkersPerDevice };
        var differing = Differing(System.Text.Json.JsonSerializer.SerializeToNode(same, SnakeCase), System.Text.Json.JsonSerializer.SerializeToNode(this, SnakeCase), "").ToList();
        if (differing.Count == 0) return null;
        return $"the run was started with other settings ({string.Join(", ", differing)}); only the budget, the devices and the timeouts may change on resume";
    }

    private static readonly System.Text.Json.JsonSerializerOptions SnakeCase = new() { PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower };

    /// <summary>The stored keys that differ, inside search and final too (search.epochs), in the stored order.</summary>
    private static IEnumerable<string> Differing(System.Text.Json.Nodes.JsonNode? a, System.Text.Json.Nodes.JsonNode? b, string path)
    {
        if (a is System.Text.Json.Nodes.JsonObject x && b is System.Text.Json.Nodes.JsonObject y)
            return x.Select(p => p.Key).Concat(y.Select(p => p.Key)).Distinct()
                .SelectMany(key => Differing(x[key], y[key], path.Length == 0 ? key : $"{path}.{key}"));
        return System.Text.Json.Nodes.JsonNode.DeepEquals(a, b) ? [] : [path];
    }
}
