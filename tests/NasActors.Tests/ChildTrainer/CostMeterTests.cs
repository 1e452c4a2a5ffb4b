using NasActors.ChildTrainer.Workers;
using NasActors.Protocol.Messages;
using NasActors.Search;
using NasActors.SearchSpace;
using NasActors.Tests.Support;
using NasActors.Training.Networks;

namespace NasActors.Tests.ChildTrainer;

/// <summary>A child's costs are measured before it trains, and one over its bounds never reaches the trainer.</summary>
[Collection(TorchCollection.Name)]
public class CostMeterTests
{
    private static readonly TrainingSpec Spec = new SearchSettings().Search with { Cells = 1, Filters = 4, Epochs = 1, ValidationSize = 100, TrainLimit = 200 };

    /// <summary>A trainer that must not be called.</summary>
    private sealed class NeverCalled : IChildTrainer
    {
        public TrainOutcome Train(TrainChild job, string device, Action<int, int, double?> progress, CancellationToken cancel) =>
            throw new InvalidOperationException("a refused child reached its trainer");
    }

    /// <summary>A trainer that reports no sizes of its own, as an exec: command may not.</summary>
    private sealed class Sizeless : IChildTrainer
    {
        public TrainOutcome Train(TrainChild job, string device, Action<int, int, double?> progress, CancellationToken cancel) => new(0.5, null, 1, 0, 0, 0.1);
    }

    [Fact]
    public void Latency_is_measured_on_the_device_in_the_jobs_settings_and_sizes_come_from_the_plan()
    {
        var job = new TrainChild(0, NasNetA.Genotype, false, 1, 1, Spec) { Costs = new CostRequest(2, null) };
        var costs = CostMeter.Measure(job, "cpu");
        var plan = NetworkPlan.Create(new NetworkConfig(NasNetA.Genotype, Spec.Cells, Spec.Filters, 10, 1, 28, NetworkConfig.StemFor(28), DropPathKeep: Spec.DropPathKeep));
        Assert.Equal((plan.Parameters, plan.MultAdds, "cpu"), (costs.Parameters, costs.MultAdds, costs.LatencyDevice));
        Assert.InRange(costs.LatencyMs!.Value, 0.001, 10_000);
        // Without a request, no latency (and no torch work).
        Assert.Null(CostMeter.Measure(job with { Costs = null }, "cpu").LatencyMs);

        var outcome = CostMeter.Train(new Sizeless(), job, "cpu", (_, _, _) => { }, CancellationToken.None);
        Assert.Equal((plan.Parameters, plan.MultAdds), (outcome.Costs!.Parameters, outcome.Costs.MultAdds));
        Assert.NotNull(outcome.Costs.LatencyMs);
        Assert.False(outcome.Refused);
    }

    [Fact]
    public void Holders_of_one_thread_share_it_and_the_last_gives_the_process_its_count_back()
    {
        var before = TorchSharp.torch.get_num_threads();
        TorchSharp.torch.set_num_threads(2);
        try
        {
            var a = NasActors.Tensors.TorchThreads.One();
            var b = NasActors.Tensors.TorchThreads.One();
            Assert.Equal(1, TorchSharp.torch.get_num_threads());
            // Disposed out of order (a latency measured while the controller updates): still one until the last.
            a.Dispose();
            Assert.Equal(1, TorchSharp.torch.get_num_threads());
            b.Dispose();
            Assert.Equal(2, TorchSharp.torch.get_num_threads());
        }
        finally
        {
            TorchSharp.torch.set_num_threads(before);
        }
    }

    [Fact]
    public void A_child_over_a_bound_is_refused_without_training()
    {
        var job = new TrainChild(0, NasNetA.Genotype, false, 1, 1, Spec) { Costs = new CostRequest(null, new Dictionary<string, double> { ["params"] = 10 }) };
        var outcome = CostMeter.Train(new NeverCalled(), job, "cpu", (_, _, _) => { }, CancellationToken.None);
        Assert.True(outcome.Refused);
        Assert.True(outcome.Costs!.Parameters > 10);
        Assert.Equal(["params " + ChildCosts.Format(outcome.Costs.Parameters) + " > 10"], outcome.Costs.Exceeded(job.Costs!.Bounds));
    }

    [Fact]
    public void Costs_that_cannot_be_measured_fail_a_child_that_needs_them_and_leave_the_others_to_their_trainer()
    {
        var spec = Spec with { Dataset = "folder:/nonexistent-nas-dataset" };
        var bounded = new TrainChild(0, NasNetA.Genotype, false, 1, 1, spec) { Costs = new CostRequest(null, new Dictionary<string, double> { ["params"] = 1e9 }) };
        var failed = CostMeter.Train(new NeverCalled(), bounded, "cpu", (_, _, _) => { }, CancellationToken.None);
        Assert.StartsWith("its costs could not be measured: ", failed.FailureReason);
        Assert.Contains("/nonexistent-nas-dataset/train", failed.FailureReason);

        var free = CostMeter.Train(new Sizeless(), bounded with { Costs = null }, "cpu", (_, _, _) => { }, CancellationToken.None);
        Assert.Null(free.Costs);
        Assert.Equal(0.5, free.Accuracy);
    }
}
