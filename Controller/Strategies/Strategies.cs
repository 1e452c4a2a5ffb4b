namespace NasActors.Controller.Strategies;

/// <summary>Creates a strategy from its configuration, fresh or from saved state bytes.</summary>
public static class Strategies
{
    public static ISearchStrategy Create(StrategyConfig config, byte[]? state = null) => config.Kind switch
    {
        "ppo" => new PpoStrategy(config, state),
        "random" => new RandomSearch(config, state),
        "evolution" => new RegularizedEvolution(config, state),
        _ => throw new ArgumentException(string.Join("; ", config.Errors())),
    };
}
