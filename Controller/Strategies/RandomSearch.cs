using NasActors.SearchSpace;

namespace NasActors.Controller.Strategies;

/// <summary>The paper's baseline: every decision uniform over its valid choices.</summary>
public sealed class RandomSearch : StrategyBase
{
    public RandomSearch(StrategyConfig config, byte[]? state = null) : base(config)
    {
        if (state is not null) LoadState(state);
    }

    public override string Kind => "random";

    protected override (int[] Decisions, double LogProbability) NextDecisions() =>
        (Space.Sample(Rng), UniformLogProbability());

    protected override void Learn(Proposal proposal, double reward, IReadOnlyList<double>? point) { }

    protected override void WriteState(BinaryWriter writer) { }

    protected override void ReadState(BinaryReader reader) { }
}
