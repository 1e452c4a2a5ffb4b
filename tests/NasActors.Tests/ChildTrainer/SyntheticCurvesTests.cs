using NasActors.ChildTrainer.Synthetic;
using NasActors.ChildTrainer.Workers;
using NasActors.Controller.Strategies;
using NasActors.Protocol.Messages;
using NasActors.SearchSpace;

namespace NasActors.Tests.ChildTrainer;

public class SyntheticCurvesTests
{
    private static readonly IReadOnlyList<Genotype> Sampled = SampleGenotypes(4000);

    private static List<Genotype> SampleGenotypes(int n)
    {
        var space = new DecisionSpace();
        var rng = new SeededRandom(11);
        return Enumerable.Range(0, n).Select(_ => space.Decode(space.Sample(rng))).ToList();
    }

    private static double[] Ranks(IReadOnlyList<double> values)
    {
        var order = Enumerable.Range(0, values.Count).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Count];
        for (var r = 0; r < order.Length; r++) ranks[order[r]] = r;
        return ranks;
    }

    /// <summary>Spearman's rank correlation (Pearson's of the ranks).</summary>
    public static double RankCorrelation(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        var (x, y) = (Ranks(a), Ranks(b));
        var (mx, my) = (x.Average(), y.Average());
        var cov = x.Zip(y, (p, q) => (p - mx) * (q - my)).Sum();
        return cov / Math.Sqrt(x.Sum(v => (v - mx) * (v - mx)) * y.Sum(v => (v - my) * (v - my)));
    }

    [Fact]
    public void The_constants_are_the_objectives_mean_and_spread_over_uniform_architectures()
    {
        var finals = Sampled.Select(g => SyntheticObjective.Accuracy(g)).ToList();
        var mean = finals.Average();
        var spread = Math.Sqrt(finals.Sum(f => (f - mean) * (f - mean)) / finals.Count);
        Assert.True(Math.Abs(mean - SyntheticCurves.Mean) < 0.002 && Math.Abs(spread / SyntheticCurves.Spread - 1) < 0.05, $"mean {mean:F4}, spread {spread:F4}");
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.7)]
    [InlineData(0.9)]
    public void First_epoch_and_final_accuracy_have_the_rank_correlation_asked_for(double rho)
    {
        var curves = new SyntheticCurves(rho);
        var first = Sampled.Select(g => curves.Accuracy(g, 1, 20)).ToList();
        var final = Sampled.Select(g => curves.Accuracy(g, 20, 20)).ToList();
        Assert.InRange(RankCorrelation(first, final), rho - 0.05, rho + 0.05);
        // Later epochs stand closer to the final ranking, and the last is the objective itself.
        Assert.True(RankCorrelation(Sampled.Select(g => curves.Accuracy(g, 9, 20)).ToList(), final) > RankCorrelation(first, final));
        Assert.Equal(Sampled.Select(g => SyntheticObjective.Accuracy(g)), final);
    }

    [Fact]
    public void The_trainer_reports_every_epoch_and_stops_when_cancelled()
    {
        var job = new TrainChild(4, NasNetA.Genotype, false, 1, 1, new NasActors.Search.SearchSettings().Search with { Epochs = 5 }, Rungs: [1, 3]);
        var seen = new List<(int, int, double?)>();
        var outcome = new SyntheticCurvesTrainer(TimeSpan.Zero, new SyntheticCurves(0.7)).Train(job, "cpu", (e, n, a) => seen.Add((e, n, a)), CancellationToken.None);
        Assert.Equal([1, 2, 3, 4, 5], seen.Select(s => s.Item1));
        Assert.Equal(seen[^1].Item3, outcome.Accuracy);
        using var cancel = new CancellationTokenSource();
        var slow = new SyntheticCurvesTrainer(TimeSpan.FromSeconds(30), new SyntheticCurves(0.7));
        cancel.CancelAfter(200);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.Throws<OperationCanceledException>(() => slow.Train(job, "cpu", (_, _, _) => { }, cancel.Token));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"stopping took {clock.Elapsed}");
    }

    [Theory]
    [InlineData("synthetic-curves", 0, 0.7)]
    [InlineData("synthetic-curves:25", 25, 0.7)]
    [InlineData("synthetic-curves:25:0.9", 25, 0.9)]
    public void The_trainer_text_names_delay_and_correlation(string text, int ms, double rho) =>
        Assert.Equal(new TrainerSpec(TrainerKind.SyntheticCurves, ms, Correlation: rho), TrainerSpec.Parse(text));

    [Theory]
    [InlineData("synthetic-curves:x")]
    [InlineData("synthetic-curves:10:1.5")]
    [InlineData("synthetic-curves:10:0.5:1")]
    [InlineData("synthetic-curves:-1")]
    public void A_bad_trainer_text_says_the_form(string text)
    {
        Assert.Null(TrainerSpec.TryParse(text, out var error));
        Assert.Contains("synthetic-curves[:MS[:RHO]]", error);
    }
}
