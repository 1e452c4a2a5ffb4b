using Akka.Actor;
using Akka.Configuration;
using Akka.Pattern;
using Akka.Persistence.TestKit;
using NasActors.Controller.Coordinator;
using NasActors.Node.Hosting;
using NasActors.Persistence;
using NasActors.Protocol.Messages;

namespace NasActors.Tests.Search;

[Collection(TorchCollection.Name)]
public sealed class CoordinatorTests() : Akka.TestKit.Xunit2.TestKit(ConfigurationFactory.ParseString("""
    akka.actor.provider = local
    akka.loggers = ["Akka.Event.DefaultLogger"]
    akka.persistence.journal.plugin = "akka.persistence.journal.test"
    akka.persistence.journal.test {
      class = "Akka.Persistence.TestKit.TestJournal, Akka.Persistence.TestKit"
      plugin-dispatcher = "akka.actor.default-dispatcher"
    }
    akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.test"
    akka.persistence.snapshot-store.test {
      class = "Akka.Persistence.TestKit.TestSnapshotStore, Akka.Persistence.TestKit"
      plugin-dispatcher = "akka.actor.default-dispatcher"
    }
    """).WithFallback(NodeConfig.ClusterHocon()))
{
    private static readonly SearchSettings Settings = new() { Strategy = "random", Budget = 3, Trainer = "synthetic", TopK = 0, SnapshotEvery = 4 };

    private IActorRef StartCoordinator() =>
        Sys.ActorOf(BackoffSupervisor.Props(Backoff.OnStop(SearchCoordinator.Props(Settings), "search",
            TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(500), 0, maxNrOfRetries: -1)));

    private static ChildResult Result(TrainChild job, string worker) => new(job.ChildId, false, worker, 0.5, null, 0.5, 1, 1, 0.1);

    private SearchStatus Status(IActorRef coordinator) => coordinator.Ask<SearchStatus>(new GetSearchStatus(), RemainingOrDefault).Result;

    [Fact]
    public void Work_is_pulled_results_count_once_and_a_repeated_result_is_recorded_as_such()
    {
        var coordinator = StartCoordinator();
        var worker = CreateTestProbe();
        coordinator.Tell(new RegisterWorker("w1", "cpu", "synthetic"), worker);
        worker.ExpectMsg<WorkerRegistered>();
        coordinator.Tell(new RequestWork("w1"), worker);
        var job = worker.ExpectMsg<TrainChild>();
        Assert.Equal((0L, 1), (job.ChildId, job.Attempt));

        // The result is stored together with the worker's next assignment, which follows at once.
        coordinator.Tell(Result(job, "w1"), worker);
        worker.ExpectMsg<ResultRecorded>(r => r.ChildId == 0 && r.JobFollows);
        var second = worker.ExpectMsg<TrainChild>();
        Assert.Equal(1, second.ChildId);

        // A repeated result is acknowledged (so the worker stops resending) and not counted.
        coordinator.Tell(Result(job, "w1"), worker);
        worker.ExpectMsg<ResultRecorded>(r => r.ChildId == 0 && !r.JobFollows);
        AwaitAssert(() => Assert.Equal((1, 2), (Status(coordinator).Completed, Status(coordinator).Sampled)));

        coordinator.Tell(Result(second, "w1"), worker);
        worker.ExpectMsg<ResultRecorded>(r => r.ChildId == 1 && r.JobFollows);
        var third = worker.ExpectMsg<TrainChild>();
        coordinator.Tell(Result(third, "w1"), worker);
        worker.ExpectMsg<ResultRecorded>(r => r.ChildId == 2 && !r.JobFollows);
        coordinator.Tell(new RequestWork("w1"), worker);
        Assert.True(worker.ExpectMsg<NoWork>().Finished);
        var status = Status(coordinator);
        Assert.Equal((3, 3, true), (status.Completed, status.Sampled, status.SearchCompleted));
    }

    [Fact]
    public void The_children_of_a_worker_that_dies_go_to_another_worker()
    {
        var coordinator = StartCoordinator();
        var doomed = CreateTestProbe();
        coordinator.Tell(new RequestWork("doomed"), doomed);
        var job = doomed.ExpectMsg<TrainChild>();
        Watch(doomed.Ref);
        Sys.Stop(doomed.Ref);
        ExpectTerminated(doomed.Ref);

        var survivor = CreateTestProbe();
        AwaitAssert(() =>
        {
            coordinator.Tell(new RequestWork("survivor"), survivor);
            var again = survivor.ExpectMsg<TrainChild>(TimeSpan.FromMilliseconds(500));
            Assert.Equal((job.ChildId, 2), (again.ChildId, again.Attempt));
        });
    }

    [Fact]
    public async Task A_failing_journal_makes_the_coordinator_back_off_and_retry_and_nothing_is_lost()
    {
        var coordinator = StartCoordinator();
        var worker = CreateTestProbe();
        coordinator.Tell(new RequestWork("w1"), worker);
        var job = worker.ExpectMsg<TrainChild>();

        var journal = TestJournal.FromRef(Akka.Persistence.Persistence.Instance.Apply(Sys).JournalFor(null));
        await journal.OnWrite.Fail();
        coordinator.Tell(Result(job, "w1"), worker);
        worker.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        await journal.OnWrite.Pass();

        // The worker repeats its report until it is recorded; the restarted coordinator (recovered
        // from the journal, which holds no trace of the failed write) counts it exactly once.
        await AwaitAssertAsync(() =>
        {
            coordinator.Tell(Result(job, "w1"), worker);
            worker.ExpectMsg<ResultRecorded>(TimeSpan.FromMilliseconds(500));
        });
        Assert.Equal(1, Status(coordinator).Completed);
        // Counted once, and the search goes on: the next child comes with the acknowledgement.
        coordinator.Tell(Result(job, "w1"), worker);
        worker.FishForMessage(m => m is ResultRecorded { ChildId: 0, JobFollows: false });
        Assert.Equal(1, Status(coordinator).Completed);
    }
}
