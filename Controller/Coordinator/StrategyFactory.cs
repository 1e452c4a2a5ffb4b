using NasActors.Controller.Strategies;
using NasActors.Runs;
using NasActors.Search;

namespace NasActors.Controller.Coordinator;

public static class StrategyFactory
{
    /// <summary>The strategy configuration a search's settings call for.</summary>
    public static StrategyConfig ConfigFor(SearchSettings s) => new()
    {
        Kind = s.Strategy,
        Seed = s.Seed,
        Blocks = s.Blocks,
        FailureReward = s.FailureReward,
        Ppo = new PpoSettings { LearningRate = s.PpoLearningRate, Minibatch = s.PpoMinibatch },
    };
}
