using NasActors.Protocol;
using NasActors.Search;
using NasActors.SearchSpace;

namespace NasActors.Controller.Strategies;

/// <summary>
/// The search strategies by name, the one place that knows them (the options, a run's settings,
/// the coordinator and the benchmarks all ask here): the paper's PPO controller, its random-search
/// baseline, and regularized evolution.
/// </summary>
public static class StrategyCatalog
{
    private static readonly IReadOnlyDictionary<string, Func<StrategyConfig, byte[]?, ISearchStrategy>> Entries =
        new Dictionary<string, Func<StrategyConfig, byte[]?, ISearchStrategy>>
        {
            ["ppo"] = (config, state) => new PpoStrategy(config, state),
            ["random"] = (config, state) => new RandomSearch(config, state),
            ["evolution"] = (config, state) => new RegularizedEvolution(config, state),
        };

    public static IReadOnlyList<string> Names { get; } = [.. Entries.Keys];

    /// <summary>A strategy from its configuration, fresh or from saved state bytes; a configuration with errors is refused naming them all.</summary>
    public static ISearchStrategy Create(StrategyConfig config, byte[]? state = null) =>
        config.Errors() is { Count: > 0 } errors || !Entries.TryGetValue(config.Kind, out var create)
            ? throw new InputException(string.Join("; ", config.Errors()))
            : create(config, state);

    /// <summary>
    /// The strategy a search's settings call for. PPO's updates are deferred: computed off the
    /// coordinator's message loop, installed when they are ready, and journaled as
    /// <see cref="Search.Events.PolicyUpdated"/> at that moment, so that replay installs each at the
    /// same point in the sequence of proposals.
    /// </summary>
    public static ISearchStrategy ForSearch(SearchSettings settings, byte[]? state)
    {
        var strategy = Create(ConfigFor(settings), state);
        if (strategy is PpoStrategy ppo) ppo.DeferUpdates = true;
        return strategy;
    }

    /// <summary>The strategy configuration a search's settings call for.</summary>
    public static StrategyConfig ConfigFor(SearchSettings s) => new()
    {
        Kind = s.Strategy,
        Seed = s.Seed,
        Space = s.SpaceName,
        Blocks = s.Blocks,
        FailureReward = s.FailureReward,
        Ppo = new PpoSettings
        {
            LearningRate = s.PpoLearningRate, Minibatch = s.PpoMinibatch,
            Epochs = s.PpoEpochs ?? PaperSettings.PpoEpochs, NormalizeAdvantages = s.PpoNormalizeAdvantages ?? false,
        },
        Pareto = ObjectiveSet.For(s) is not null,
        Stopped = s.EarlyStop?.StoppedChildren == EarlyStopSettings.Ignore ? StoppedChildren.Ignore : StoppedChildren.RungAccuracy,
    };
}
