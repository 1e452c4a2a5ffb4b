using NasActors.SearchSpace;

namespace NasActors.Controller.Strategies;

/// <summary>
/// Regularized ("aging") evolution (Real et al. 2019): until the population holds P evaluated
/// architectures, propose random ones; then take S members at random, mutate the best of them
/// (one input or one op of one block), and when a result arrives add it and drop the oldest.
/// </summary>
public sealed class RegularizedEvolution : StrategyBase
{
    // Oldest first.
    private readonly List<(int[] Decisions, double Reward)> population = new();

    public RegularizedEvolution(StrategyConfig config, byte[]? state = null) : base(config)
    {
        if (state is not null) LoadState(state);
    }

    public override string Kind => "evolution";

    public IReadOnlyList<(int[] Decisions, double Reward)> Population => population;

    protected override (int[] Decisions, double LogProbability) NextDecisions()
    {
        var p = Config.Evolution;
        if (population.Count < p.Population)
            return (Space.Sample(Rng), UniformLogProbability());
        var candidates = Enumerable.Range(0, population.Count).ToArray();
        Rng.Shuffle(candidates);
        // The best of the sample; on a tie the younger member (later in the list) wins.
        var parent = candidates.Take(p.SampleSize).OrderByDescending(i => population[i].Reward).ThenByDescending(i => i).First();
        return (Mutate(population[parent].Decisions), 0.0);
    }

    /// <summary>Changes one input or one op of one block of one cell to a different valid value.</summary>
    public int[] Mutate(int[] parent)
    {
        var child = (int[])parent.Clone();
        var perCell = DecisionSpace.DecisionsPerBlock * Space.Blocks;
        while (true)
        {
            var cell = Rng.Next(2);
            var block = Rng.Next(Space.Blocks);
            // 0, 1: input A or B; 2, 3: op A or B.
            var step = cell * perCell + block * DecisionSpace.DecisionsPerBlock + Rng.Next(4);
            var choices = Space.ChoiceCount(step);
            if (choices < 2) continue;
            var value = Rng.Next(choices - 1);
            child[step] = value >= parent[step] ? value + 1 : value;
            return child;
        }
    }

    protected override void Learn(Proposal proposal, double reward)
    {
        population.Add((proposal.Decisions, reward));
        if (population.Count > Config.Evolution.Population)
            population.RemoveAt(0);
    }

    protected override void WriteState(BinaryWriter writer)
    {
        writer.Write(population.Count);
        foreach (var (decisions, reward) in population)
        {
            WriteDecisions(writer, decisions);
            writer.Write(reward);
        }
    }

    protected override void ReadState(BinaryReader reader)
    {
        population.Clear();
        for (var n = reader.ReadInt32(); n > 0; n--)
            population.Add((ReadDecisions(reader), reader.ReadDouble()));
    }
}
