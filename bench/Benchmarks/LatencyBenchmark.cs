using System.Diagnostics;
using NasActors.ChildTrainer.Workers;
using NasActors.Controller.Strategies;
using NasActors.Protocol.Messages;
using static NasActors.Training.Latency;

namespace NasActors.Bench;

/// <summary>
/// A child's latency as a worker measures it (<see cref="CostMeter"/>: plan, network, warm-up and
/// timed passes), for children drawn as random search draws them: how repeatable it is (the same
/// child measured again and again), what one measurement costs in wall time, and how latencies
/// spread over children (the bound that refuses half of them is their median).
/// </summary>
public static class LatencyBenchmark
{
    /// <summary>
    /// One child: the median of its measurements, their coefficient of variation (spread over mean),
    /// the mean wall time of one measurement, its mult-adds.
    /// </summary>
    public sealed record Child(long ChildId, double MedianMs, double Variation, double MeasureSeconds, long MultAdds);

    public sealed record Result(string Device, int Batch, int Repeats, IReadOnlyList<Child> Children)
    {
        /// <summary>The median over children of the latency: the bound that refuses about half of random search's samples.</summary>
        public double MedianLatencyMs => Median(Children.Select(c => c.MedianMs));

        public double MedianVariation => Median(Children.Select(c => c.Variation));

        public double MaxVariation => Children.Max(c => c.Variation);

        public double MeanMeasureSeconds => Children.Average(c => c.MeasureSeconds);
    }

    public static Result Run(TrainingSpec spec, string device, int batch, int children, int repeats, long seed, Action<Child>? each = null)
    {
        using var random = StrategyCatalog.Create(new StrategyConfig { Kind = "random", Seed = seed });
        var rows = new List<Child>();
        for (var id = 0L; id < children; id++)
        {
            var job = new TrainChild(id, random.Propose(id).Genotype, false, 0, 1, spec) { Costs = new CostRequest(batch, null) };
            var latencies = new List<double>();
            var clock = Stopwatch.StartNew();
            long multAdds = 0;
            for (var r = 0; r < repeats; r++)
            {
                var costs = CostMeter.Measure(job, device);
                latencies.Add(costs.LatencyMs!.Value);
                multAdds = costs.MultAdds;
            }
            var mean = latencies.Average();
            var cv = Math.Sqrt(latencies.Sum(l => (l - mean) * (l - mean)) / latencies.Count) / mean;
            var row = new Child(id, Math.Round(Median(latencies), 4), Math.Round(cv, 4), Math.Round(clock.Elapsed.TotalSeconds / repeats, 4), multAdds);
            rows.Add(row);
            each?.Invoke(row);
        }
        return new Result(device, batch, repeats, rows);
    }
}
