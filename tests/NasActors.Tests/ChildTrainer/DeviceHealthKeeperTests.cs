using System.Collections.Concurrent;
using Akka.Actor;
using NasActors.ChildTrainer.Workers;
using NasActors.Protocol.Messages;

namespace NasActors.Tests.ChildTrainer;

/// <summary>A worker's device health apart from its jobs: its keeper, with the test as its worker and a probe as the coordinator.</summary>
public sealed class DeviceHealthKeeperTests : Akka.TestKit.Xunit2.TestKit
{
    /// <summary>A trainer whose device checks answer from a list (null: right), then right.</summary>
    private sealed class ScriptedDevice(params string?[] answers) : IChildTrainer
    {
        private readonly ConcurrentQueue<string?> answers = new(answers);

        public TrainOutcome Train(TrainChild job, string device, Action<int, int, double?> progress, CancellationToken cancel) =>
            throw new InvalidOperationException("not in this test");

        public string? CheckDevice(string device, bool again) => answers.TryDequeue(out var a) ? a : null;
    }

    [Fact]
    public void A_device_found_wrong_keeps_the_worker_off_work_until_a_check_passes_and_the_coordinator_has_recorded_both()
    {
        var coordinator = CreateTestProbe();
        var keeper = ChildActorOf(DeviceHealthKeeper.Props("w", "cpu", new ScriptedDevice("cpu: dense convolutions compute wrong"), coordinator.Ref,
            new DeviceCheckCadence(null, TimeSpan.FromMilliseconds(100))));

        // The check when it joins fails: the worker is told first, the coordinator in the worker's name, until it records it.
        Assert.Equal("cpu: dense convolutions compute wrong", ExpectMsg<DeviceHealthKeeper.Sick>().Problem);
        Assert.Equal("cpu: dense convolutions compute wrong", coordinator.ExpectMsg<DeviceUnhealthy>().Reason);
        Assert.Equal(TestActor, coordinator.LastSender);
        keeper.Tell(new DeviceHealthRecorded("w", false));

        // Checked again while unhealthy: it passes, and the worker may work only once the coordinator has recorded that.
        coordinator.FishForMessage(m => m is DeviceHealthy);
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        keeper.Tell(new DeviceHealthRecorded("w", true));
        ExpectMsg<DeviceHealthKeeper.Ready>();

        // A child that finds the device wrong makes it unhealthy again.
        keeper.Tell(new DeviceHealthKeeper.FaultFound("cpu: the child's own convolution computes wrong"));
        Assert.Equal("cpu: the child's own convolution computes wrong", ExpectMsg<DeviceHealthKeeper.Sick>().Problem);
        coordinator.FishForMessage(m => m is DeviceUnhealthy { Reason: "cpu: the child's own convolution computes wrong" });
    }
}
