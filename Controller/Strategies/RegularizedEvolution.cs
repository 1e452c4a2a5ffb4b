using NasActors.SearchSpace;

namespace NasActors.Controller.Strategies;

/// <summary>
/// Regularized ("aging") evolution (Real et al. 2019): until the population holds P evaluated
/// architectures, propose random ones; then take S members at random, mutate the best of them
/// (one input or one op of one block), and when a result arrives add it and drop the oldest.
/// In a search of several objectives (<see cref="StrategyConfig.Pareto"/>) the best of the sample is
/// NSGA-II's (Deb et al. 2002): the lowest non-dominated front of the population, then the largest
/// crowding distance in it; a refused child never joins the population, so it is never a parent.
/// </summary>
public sealed class RegularizedEvolution : StrategyBase
{
    // Oldest first.
    private readonly List<Member> population = new();

    /// <summary>A member: its decisions, reward and (in a search of several objectives) its point to minimise (null: none known, the last front).</summary>
    public sealed record Member(int[] Decisions, double Reward, IReadOnlyList<double>? Point);

    public RegularizedEvolution(StrategyConfig config, byte[]? state = null) : base(config)
    {
        if (state is not null) LoadState(state);
    }

    public override string Kind => "evolution";

    public IReadOnlyList<Member> Population => population;

    protected override (int[] Decisions, double LogProbability) NextDecisions()
    {
        var p = Config.Evolution;
        if (population.Count < p.Population)
            return (Space.Sample(Rng), UniformLogProbability());
        var candidates = Enumerable.Range(0, population.Count).ToArray();
        Rng.Shuffle(candidates);
        var sample = candidates.Take(p.SampleSize);
        // The best of the sample; on a tie the younger member (later in the list) wins.
        var parent = Config.Pareto ? ParetoBest(sample) : sample.OrderByDescending(i => population[i].Reward).ThenByDescending(i => i).First();
        return (Mutate(population[parent].Decisions), 0.0);
    }

    /// <summary>Of the sampled members, the one in the lowest front of the population, then the least crowded, then the younger.</summary>
    private int ParetoBest(IEnumerable<int> sample)
    {
        var known = Enumerable.Range(0, population.Count).Where(i => population[i].Point is not null).ToList();
        var points = known.Select(i => population[i].Point!).ToList();
        var fronts = Search.Pareto.Fronts(points);
        var crowding = Search.Pareto.Crowding(points, fronts);
        var front = new int[population.Count];
        var distance = new double[population.Count];
        Array.Fill(front, int.MaxValue);
        for (var k = 0; k < known.Count; k++) (front[known[k]], distance[known[k]]) = (fronts[k], crowding[k]);
        return sample.OrderBy(i => front[i]).ThenByDescending(i => distance[i]).ThenByDescending(i => i).First();
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

    protected override void Learn(Proposal proposal, double reward, IReadOnlyList<double>? point)
    {
        population.Add(new Member(proposal.Decisions, reward, point));
        if (population.Count > Config.Evolution.Population)
            population.RemoveAt(0);
    }

    /// <summary>Never a parent: it leaves the pending proposals and nothing else.</summary>
    protected override void LearnRefused(Proposal proposal)
    {
    }

    // Points are stored only in a search of several objectives: the states of every other run keep their bytes.
    protected override void WriteState(BinaryWriter writer)
    {
        writer.Write(population.Count);
        foreach (var (decisions, reward, point) in population)
        {
            WriteDecisions(writer, decisions);
            writer.Write(reward);
            if (!Config.Pareto) continue;
            writer.Write(point?.Count ?? 0);
            foreach (var v in point ?? []) writer.Write(v);
        }
    }

    protected override void ReadState(BinaryReader reader)
    {
        population.Clear();
        for (var n = reader.ReadInt32(); n > 0; n--)
        {
            var decisions = ReadDecisions(reader);
            var reward = reader.ReadDouble();
            double[]? point = null;
            if (Config.Pareto && reader.ReadInt32() is var count and > 0)
            {
                if (count > 16) throw new InvalidDataException($"a member's point has {count} objectives");
                point = new double[count];
                for (var i = 0; i < count; i++) point[i] = reader.ReadDouble();
            }
            population.Add(new Member(decisions, reward, point));
        }
    }
}
