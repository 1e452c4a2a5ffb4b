using System.Runtime.CompilerServices;
using Akka.Actor;
using Akka.Configuration;
using Akka.Pattern;
using Akka.Persistence;
using Akka.Persistence.TestKit;
using Akka.TestKit;
using NasActors.ChildTrainer.Workers;
using NasActors.Controller.Coordinator;
using NasActors.Controller.Strategies;
using NasActors.Hosting;
using NasActors.Protocol.Messages;
using NasActors.Persistence;
using NasActors.Search;
using NasActors.Search.Events;
using NasActors.Tests.Support;

namespace NasActors.Tests.Controller;

[Collection(TorchCollection.Name)]
public sealed class CoordinatorTests() : Akka.TestKit.Xunit2.TestKit(ConfigurationFactory.ParseString("""
    akka.actor.provider = local
    akka.loggers = ["Akka.Event.DefaultLogger"]
    akka.loglevel = INFO
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

    private IActorRef StartCoordinator(SearchSettings? settings = null) =>
        Sys.ActorOf(BackoffSupervisor.Props(Backoff.OnStop(SearchCoordinator.Props(settings ?? Settings), "search",
            TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(500), 0, maxNrOfRetries: -1)));

    /// <summary>The coordinator's journal as stored: a fresh actor with its persistence id replays it.</summary>
    private List<ISearchEvent> Journal()
    {
        var reader = Sys.ActorOf(Props.Create(() => new JournalReader()));
        return reader.Ask<List<ISearchEvent>>("events", TimeSpan.FromSeconds(10)).Result;
    }

    private sealed class JournalReader : ReceivePersistentActor
    {
        private readonly List<ISearchEvent> events = new();

        public JournalReader()
        {
            Recover<ISearchEvent>(events.Add);
            Command<string>(_ => Sender.Tell(events.ToList()));
        }

        public override string PersistenceId => PersistenceIds.Folder.CoordinatorId;

        // Every event from the first: no snapshot.
        public override Recovery Recovery => new(SnapshotSelectionCriteria.None);
    }

    /// <summary>The real strategy, whose first policy updates fail (as an out-of-memory in the update would).</summary>
    private sealed class FlakyUpdates(ISearchStrategy inner, StrongBox<int> failuresLeft) : ISearchStrategy
    {
        public string Kind => inner.Kind;
        public int PolicyVersion => inner.PolicyVersion;
        public int PendingCount => inner.PendingCount;
        public bool HasPendingUpdate => inner.HasPendingUpdate;
        public Proposal Propose(long childId) => inner.Propose(childId);
        public bool Observe(long childId, double? reward, IReadOnlyList<double>? point = null) => inner.Observe(childId, reward, point);
        public bool ObserveRefused(long childId) => inner.ObserveRefused(childId);
        public bool ObserveStopped(long childId, double rungAccuracy, IReadOnlyList<double>? point = null) => inner.ObserveStopped(childId, rungAccuracy, point);
        public byte[] SaveState() => inner.SaveState();
        public void ApplyUpdate(byte[] updated) => inner.ApplyUpdate(updated);
        public void Dispose() => inner.Dispose();

        public Func<byte[]> PrepareUpdate()
        {
            var compute = inner.PrepareUpdate();
            return () => Interlocked.Decrement(ref failuresLeft.Value) >= 0 ? throw new InvalidOperationException("update ran out of memory") : compute();
        }
    }

    /// <summary>A trainer that throws, as a broken trainer would.</summary>
    private sealed class ThrowingTrainer : IChildTrainer
    {
        public TrainOutcome Train(TrainChild job, string device, Action<int, int, double?> progress, CancellationToken cancel) =>
            throw new InvalidOperationException("the GPU driver fell over");
    }

    /// <summary>Between a worker and the coordinator: forwards everything, but drops the first acknowledgements.</summary>
    private sealed class LossyLink : ReceiveActor
    {
        public LossyLink(IActorRef coordinator, int dropAcks, IActorRef observer)
        {
            IActorRef? worker = null;
            ReceiveAny(m =>
            {
                if (m is RegisterWorker or RequestWork or WorkerReport or ChildProgress or DeviceHealthy or DeviceUnhealthy)
                {
                    worker = Sender;
                    if (m is WorkerReport) observer.Tell(m);
                    coordinator.Tell(m, Self);
                    return;
                }
                if (m is ResultRecorded && dropAcks-- > 0) return;
                worker?.Tell(m, Self);
            });
        }
    }

    private static ChildResult Result(TrainChild job, string worker) => new(job.ChildId, false, worker, 0.5, null, 0.5, 1, 1, 0.1);

    private SearchStatus Status(IActorRef coordinator) => coordinator.Ask<SearchStatus>(new GetSearchStatus(), RemainingOrDefault).Result;

    [Fact]
    public async Task A_coordinator_that_restarts_leaves_running_children_with_the_live_workers_that_claim_them()
    {
        var coordinator = StartCoordinator(Settings with { Budget = 4 });
        // Two real workers, each training its child for 9 s: longer than the grace period (5 s, as
        // configured in cluster.hocon), so only their claims (every 2 s) can keep the children.
        for (var w = 1; w <= 2; w++)
            Sys.ActorOf(DeviceWorker.Props($"w{w}", "cpu", new SyntheticChildTrainer(TimeSpan.FromSeconds(9)), coordinator));
        AwaitAssert(() => Assert.Equal(2, Status(coordinator).Running), TimeSpan.FromSeconds(10));

        // The journal fails a write: the coordinator stops, its supervisor starts it again, and it
        // recovers with children 0 and 1 running on workers it no longer knows.
        var journal = TestJournal.FromRef(Akka.Persistence.Persistence.Instance.Apply(Sys).JournalFor(null));
        await journal.OnWrite.Fail();
        var idle = CreateTestProbe();
        coordinator.Tell(new RequestWork("probe"), idle);
        await Task.Delay(300);
        await journal.OnWrite.Pass();

        // The workers claim their children within the grace period and finish them: nothing is
        // requeued, nothing trained twice; the other two children follow.
        AwaitAssert(() => Assert.True(Status(coordinator).Finished), TimeSpan.FromSeconds(60));
        var events = Journal();
        // The failed write (the probe's assignment) is not in the journal: the coordinator did stop and recover.
        Assert.DoesNotContain(events.OfType<ChildAssigned>(), a => a.WorkerId == "probe");
        Assert.DoesNotContain(events.OfType<ChildRequeued>(), r => r.ChildId is 0 or 1);
        Assert.Empty(events.OfType<ResultIgnored>());
        Assert.Equal([0L, 1, 2, 3], events.OfType<ChildTrained>().Select(t => t.ChildId).Order());
        Assert.Equal(2, events.OfType<ChildAssigned>().Count(a => a.ChildId is 0 or 1));
    }

    [Fact]
    public async Task After_a_restart_children_that_no_live_worker_claims_go_back_to_the_queue_after_the_grace_period()
    {
        var coordinator = StartCoordinator();
        var gone = CreateTestProbe();
        coordinator.Tell(new RequestWork("gone"), gone);
        var job = gone.ExpectMsg<TrainChild>();

        var journal = TestJournal.FromRef(Akka.Persistence.Persistence.Instance.Apply(Sys).JournalFor(null));
        await journal.OnWrite.Fail();
        coordinator.Tell(new RequestWork("other"), CreateTestProbe());
        await Task.Delay(300);
        await journal.OnWrite.Pass();

        // "gone" never claims: its child waits out the 5 s grace, then goes to a live worker.
        var survivor = CreateTestProbe();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        TrainChild? again = null;
        await AwaitAssertAsync(async () =>
        {
            coordinator.Tell(new RequestWork("survivor"), survivor);
            var j = survivor.ExpectMsg<TrainChild>(TimeSpan.FromMilliseconds(500));
            if (j.ChildId != job.ChildId)
            {
                coordinator.Tell(Result(j, "survivor"), survivor);
                survivor.FishForMessage(m => m is ResultRecorded r && r.ChildId == j.ChildId);
                await Task.Delay(100);
            }
            Assert.Equal(job.ChildId, j.ChildId);
            again = j;
        }, TimeSpan.FromSeconds(20));
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(4), $"requeued after {clock.Elapsed.TotalSeconds:F1} s, before the grace period");
        Assert.Equal(2, again!.Attempt);
        Assert.Contains(Journal().OfType<ChildRequeued>(), r => r.ChildId == job.ChildId && r.Reason.Contains("not claimed"));
    }

    [Fact]
    public async Task Results_reported_again_after_a_restart_are_recorded_and_said_once_in_the_log()
    {
        var info = CreateTestProbe();
        Sys.EventStream.Subscribe(info.Ref, typeof(Akka.Event.Info));
        var coordinator = StartCoordinator();
        var worker = CreateTestProbe();
        coordinator.Tell(new RequestWork("w1"), worker);
        var job = worker.ExpectMsg<TrainChild>();
        coordinator.Tell(Result(job, "w1"), worker);
        worker.FishForMessage(m => m is ResultRecorded r && r.ChildId == job.ChildId);

        // The coordinator restarts (a write fails), as after a crash or a hand-over.
        var journal = TestJournal.FromRef(Akka.Persistence.Persistence.Instance.Apply(Sys).JournalFor(null));
        await journal.OnWrite.Fail();
        coordinator.Tell(new RequestWork("w2"), CreateTestProbe());
        await Task.Delay(300);
        await journal.OnWrite.Pass();
        AwaitAssert(() => Assert.Equal(1, Status(coordinator).Completed), TimeSpan.FromSeconds(10));

        // Two reports whose acknowledgements the restart lost arrive again: each stored as such, one line said.
        for (var i = 0; i < 2; i++)
        {
            coordinator.Tell(Result(job, "w1"), worker);
            worker.FishForMessage(m => m is ResultRecorded r && r.ChildId == job.ChildId && !r.JobFollows);
        }
        var said = info.FishForMessage<Akka.Event.Info>(e => $"{e.Message}".Contains("reported again"), TimeSpan.FromSeconds(15));
        Assert.StartsWith("2 result(s) reported again after the coordinator started had been stored before it", $"{said.Message}");
        Assert.EndsWith("none counted twice; nothing to do", $"{said.Message}");
        Assert.Equal(2, Journal().OfType<ResultIgnored>().Count(r => r.ChildId == job.ChildId && r.Reason == SearchState.AlreadyRecorded));
    }

    [Fact]
    public async Task A_journal_that_cannot_be_read_is_said_as_such_and_recovery_is_tried_again()
    {
        var errors = CreateTestProbe();
        Sys.EventStream.Subscribe(errors.Ref, typeof(Akka.Event.Error));
        // A run with events, whose next coordinator finds the journal unreadable (as in a database outage).
        var first = StartCoordinator();
        AwaitAssert(() => Assert.Equal(Settings.Budget, Status(first).Budget), TimeSpan.FromSeconds(10));
        Watch(first);
        Sys.Stop(first);
        ExpectTerminated(first);
        var journal = TestJournal.FromRef(Akka.Persistence.Persistence.Instance.Apply(Sys).JournalFor(null));
        await journal.OnRecovery.Fail();
        var coordinator = StartCoordinator();
        var said = errors.FishForMessage<Akka.Event.Error>(e => $"{e.Message}".Contains("could not read the run's journal"), TimeSpan.FromSeconds(10));
        Assert.EndsWith("it tries again with backoff, and nothing stored is lost", $"{said.Message}");
        await journal.OnRecovery.Pass();
        AwaitAssert(() => Assert.Equal(Settings.Budget, Status(coordinator).Budget), TimeSpan.FromSeconds(10));
    }

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
        var (_, again) = StopAndAskAnother(coordinator, doomed);
        Assert.Equal((job.ChildId, 2), (again.ChildId, again.Attempt));
    }

    /// <summary>Stops a worker, then has another ask until the coordinator, having seen it die, hands out the next job.</summary>
    private (TestProbe Survivor, TrainChild Job) StopAndAskAnother(IActorRef coordinator, TestProbe doomed)
    {
        Watch(doomed.Ref);
        Sys.Stop(doomed.Ref);
        ExpectTerminated(doomed.Ref);
        var survivor = CreateTestProbe();
        TrainChild? job = null;
        AwaitAssert(() =>
        {
            coordinator.Tell(new RequestWork("survivor"), survivor);
            job = survivor.ExpectMsg<TrainChild>(TimeSpan.FromMilliseconds(500));
        });
        return (survivor, job!);
    }

    [Theory]
    [InlineData("fails")]
    [InlineData("rejects")]
    public async Task A_journal_that_fails_or_rejects_a_write_makes_the_coordinator_back_off_and_retry_and_nothing_is_lost(string journalWrite)
    {
        var coordinator = StartCoordinator();
        var worker = CreateTestProbe();
        coordinator.Tell(new RequestWork("w1"), worker);
        var job = worker.ExpectMsg<TrainChild>();

        var journal = TestJournal.FromRef(Akka.Persistence.Persistence.Instance.Apply(Sys).JournalFor(null));
        await (journalWrite == "fails" ? journal.OnWrite.Fail() : journal.OnWrite.Reject());
        coordinator.Tell(Result(job, "w1"), worker);
        worker.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        await journal.OnWrite.Pass();

        // The worker repeats its report until it is recorded; the restarted coordinator (recovered
        // from the journal, which holds no trace of the failed write) counts it exactly once.
        await AwaitAssertAsync(() =>
        {
            coordinator.Tell(Result(job, "w1"), worker);
            worker.FishForMessage(m => m is ResultRecorded { ChildId: 0 }, TimeSpan.FromMilliseconds(500));
        });
        Assert.Equal(1, Status(coordinator).Completed);
        Assert.Single(Journal().OfType<ChildTrained>(), t => t.ChildId == 0);
        // Counted once, and the search goes on: the next child comes with the acknowledgement.
        coordinator.Tell(Result(job, "w1"), worker);
        worker.FishForMessage(m => m is ResultRecorded { ChildId: 0, JobFollows: false });
        Assert.Equal(1, Status(coordinator).Completed);
    }

    [Fact]
    public void A_trainer_that_throws_fails_the_child_with_the_reason_and_the_real_worker_goes_on()
    {
        var coordinator = StartCoordinator();
        Sys.ActorOf(DeviceWorker.Props("w-throws", "cpu", new ThrowingTrainer(), coordinator));
        AwaitAssert(() => Assert.True(Status(coordinator).Finished), TimeSpan.FromSeconds(60));
        var failed = Journal().OfType<ChildFailed>().ToList();
        Assert.Equal([0L, 1, 2], failed.Select(f => f.ChildId));
        Assert.All(failed, f => Assert.Equal("trainer crashed: InvalidOperationException: the GPU driver fell over", f.Reason));
    }

    [Fact]
    public void A_report_is_repeated_until_acknowledged_and_counted_once()
    {
        var coordinator = StartCoordinator();
        var reports = CreateTestProbe();
        var link = Sys.ActorOf(Props.Create(() => new LossyLink(coordinator, 2, reports.Ref)));
        Sys.ActorOf(DeviceWorker.Props("w-lossy", "cpu", new SyntheticChildTrainer(TimeSpan.Zero), link));
        AwaitAssert(() => Assert.True(Status(coordinator).Finished), TimeSpan.FromSeconds(60));

        var events = Journal();
        // The first report's acknowledgement and its repeat's were lost: it was sent three times.
        Assert.Equal(3, reports.ReceiveWhile(TimeSpan.FromSeconds(1), m => (WorkerReport)m).Count(r => r.ChildId == 0));
        Assert.Equal([0L, 1, 2], events.OfType<ChildTrained>().Select(t => t.ChildId));
        Assert.Equal(2, events.OfType<ResultIgnored>().Count(i => i.ChildId == 0 && i.Reason == "result already recorded"));
    }

    [Fact]
    public void A_worker_that_registers_again_as_a_new_actor_gets_its_child_requeued()
    {
        var coordinator = StartCoordinator();
        var before = CreateTestProbe();
        coordinator.Tell(new RequestWork("w1"), before);
        var job = before.ExpectMsg<TrainChild>();

        var restarted = CreateTestProbe();
        coordinator.Tell(new RegisterWorker("w1", "cpu", "synthetic"), restarted);
        restarted.ExpectMsg<WorkerRegistered>();
        coordinator.Tell(new RequestWork("w1"), restarted);
        var again = restarted.ExpectMsg<TrainChild>();
        Assert.Equal((job.ChildId, 2), (again.ChildId, again.Attempt));
        Assert.Contains(Journal().OfType<ChildRequeued>(), r => r.ChildId == job.ChildId && r.Reason == "worker restarted");
    }

    [Fact]
    public void A_final_job_whose_worker_dies_goes_to_another_worker()
    {
        var coordinator = StartCoordinator(Settings with { Budget = 1, TopK = 1 });
        var worker = CreateTestProbe();
        coordinator.Tell(new RequestWork("w1"), worker);
        var job = worker.ExpectMsg<TrainChild>();
        coordinator.Tell(Result(job, "w1"), worker);
        worker.ExpectMsg<ResultRecorded>();
        AwaitAssert(() => Assert.True(Status(coordinator).SearchCompleted));
        coordinator.Tell(new QueueFinalTraining([0]));

        var doomed = CreateTestProbe();
        AwaitAssert(() =>
        {
            coordinator.Tell(new RequestWork("doomed"), doomed);
            Assert.True(doomed.ExpectMsg<TrainChild>(TimeSpan.FromMilliseconds(500)).Final);
        });
        var (survivor, final) = StopAndAskAnother(coordinator, doomed);
        Assert.Equal((0L, true, 2), (final.ChildId, final.Final, final.Attempt));
        coordinator.Tell(new ChildResult(0, true, "survivor", 0.7, 0.69, 0.5, 1, 1, 1), survivor);
        survivor.ExpectMsg<ResultRecorded>();
        AwaitAssert(() => Assert.True(Status(coordinator).Finished));
    }

    [Fact]
    public void A_late_result_from_the_first_worker_counts_once_and_the_second_is_ignored()
    {
        var coordinator = StartCoordinator();
        var slow = CreateTestProbe();
        coordinator.Tell(new RequestWork("slow"), slow);
        var job = slow.ExpectMsg<TrainChild>();
        // The slow worker's id registers again from another actor (its node restarted, say): its child
        // is requeued and goes to another worker, while the first actor is still training it.
        coordinator.Tell(new RegisterWorker("slow", "cpu", "synthetic"), CreateTestProbe());
        var fast = CreateTestProbe();
        coordinator.Tell(new RequestWork("fast"), fast);
        Assert.Equal(job.ChildId, fast.ExpectMsg<TrainChild>().ChildId);

        coordinator.Tell(Result(job, "slow"), slow);
        slow.FishForMessage(m => m is ResultRecorded r && r.ChildId == job.ChildId);
        coordinator.Tell(Result(job, "fast"), fast);
        fast.FishForMessage(m => m is ResultRecorded r && r.ChildId == job.ChildId);

        var events = Journal();
        Assert.Equal("slow", Assert.Single(events.OfType<ChildTrained>(), t => t.ChildId == job.ChildId).WorkerId);
        Assert.Contains(events.OfType<ResultIgnored>(), i => i.ChildId == job.ChildId && i.WorkerId == "fast");
    }

    [Fact]
    public void A_result_for_an_unknown_child_is_acknowledged_and_recorded_as_such()
    {
        var coordinator = StartCoordinator();
        var worker = CreateTestProbe();
        coordinator.Tell(new RequestWork("w1"), worker);
        worker.ExpectMsg<TrainChild>();
        coordinator.Tell(new ChildResult(999, false, "w1", 0.9, null, 0.1, 1, 1, 1), worker);
        worker.ExpectMsg<ResultRecorded>(r => r.ChildId == 999);
        Assert.Equal("unknown child", Assert.Single(Journal().OfType<ResultIgnored>()).Reason);
        Assert.Equal(0, Status(coordinator).Completed);
    }

    [Fact]
    public void A_failed_policy_update_restarts_the_coordinator_which_recomputes_it_and_the_versions_stay_continuous()
    {
        var failures = new StrongBox<int>(2);
        var settings = Settings with { Strategy = "ppo", Budget = 45, PpoMinibatch = 10 };
        var coordinator = Sys.ActorOf(BackoffSupervisor.Props(Backoff.OnStop(
            SearchCoordinator.Props(settings, (s, bytes) => new FlakyUpdates(StrategyCatalog.ForSearch(s, bytes), failures)), "search",
            TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(500), 0, maxNrOfRetries: -1)));
        for (var w = 0; w < 2; w++)
            Sys.ActorOf(DeviceWorker.Props($"w{w}", "cpu", new SyntheticChildTrainer(TimeSpan.FromMilliseconds(20)), coordinator));
        AwaitAssert(() => Assert.True(Status(coordinator).Finished), TimeSpan.FromSeconds(90), TimeSpan.FromMilliseconds(200));

        Assert.True(failures.Value < 0, "the injected failures never happened");
        var events = Journal();
        Assert.Equal([1, 2, 3, 4], events.OfType<PolicyUpdated>().Select(p => p.Version));
        var perChild = events.OfType<ChildTrained>().GroupBy(t => t.ChildId).ToList();
        Assert.Equal(45, perChild.Count);
        Assert.All(perChild, g => Assert.Single(g));
    }

    [Fact]
    public void A_worker_repeats_its_rung_report_until_decided_trains_on_meanwhile_and_on_a_stop_takes_the_job_sent_with_it()
    {
        var coordinator = CreateTestProbe();
        // 300 ms an epoch, 20 epochs: a child that would train 6 s unless stopped.
        var trainer = new SyntheticCurvesTrainer(TimeSpan.FromMilliseconds(300), new NasActors.ChildTrainer.Synthetic.SyntheticCurves(0.7));
        var worker = ReadyWorker("w-rung", trainer, coordinator);
        var spec = new SearchSettings().Search with { Epochs = 20 };
        worker.Tell(new TrainChild(7, NasActors.SearchSpace.NasNetA.Genotype, false, 1, 1, spec, [1, 3]), coordinator.Ref);

        var first = (RungReached)coordinator.FishForMessage(m => m is RungReached);
        Assert.Equal((7L, 1), (first.ChildId, first.Epoch));
        // No answer (a coordinator moving to another node): the report comes again, and the child trains on meanwhile.
        var epochs = new List<int>();
        var again = (RungReached)coordinator.FishForMessage(m =>
        {
            if (m is ChildProgress p) epochs.Add(p.Epoch);
            return m is RungReached { Epoch: 1 };
        }, TimeSpan.FromSeconds(5));
        Assert.Equal(first, again);
        Assert.Contains(2, epochs);
        var atThree = (RungReached)coordinator.FishForMessage(m => m is RungReached { Epoch: 3 }, TimeSpan.FromSeconds(5));
        worker.Tell(new RungDecided(7, 1, Stop: false), coordinator.Ref);
        // Stopped, with the next job sent at once (as the coordinator does): it arrives while the stopped child still trains.
        worker.Tell(new RungDecided(7, 3, Stop: true, JobFollows: true), coordinator.Ref);
        worker.Tell(new TrainChild(8, NasActors.SearchSpace.NasNetA.Genotype, false, 1, 1, spec with { Epochs = 2 }), coordinator.Ref);

        // Child 7 reports nothing more; child 8 trains (held until 7 had stopped, never refused), without asking for work.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var seen = new List<object>();
        coordinator.FishForMessage(m =>
        {
            seen.Add(m);
            return m is ChildProgress { ChildId: 8 };
        }, TimeSpan.FromSeconds(5));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"the next child started {clock.Elapsed} after the stop");
        Assert.DoesNotContain(seen, m => m is ChildResult or RequestWork or RungReached { Epoch: > 3 });
        Assert.Equal(8, ((ChildResult)coordinator.FishForMessage(m => m is ChildResult, TimeSpan.FromSeconds(5))).ChildId);
        Assert.Equal((7L, 3), (atThree.ChildId, atThree.Epoch));
    }

    [Fact]
    public void A_training_that_ends_before_its_rungs_are_answered_carries_their_values_in_its_result()
    {
        var coordinator = CreateTestProbe();
        var trainer = new SyntheticCurvesTrainer(TimeSpan.FromMilliseconds(30), new NasActors.ChildTrainer.Synthetic.SyntheticCurves(0.7));
        var worker = ReadyWorker("w-late", trainer, coordinator);
        worker.Tell(new TrainChild(9, NasActors.SearchSpace.NasNetA.Genotype, false, 1, 1, new SearchSettings().Search with { Epochs = 5 }, [1, 3]), coordinator.Ref);

        // No rung is answered (the coordinator is away): the result brings both values, as reported.
        var reported = new Dictionary<int, double>();
        var result = (ChildResult)coordinator.FishForMessage(m =>
        {
            if (m is RungReached r) reported[r.Epoch] = r.Accuracy;
            return m is ChildResult;
        }, TimeSpan.FromSeconds(10));
        Assert.Equal([1, 3], reported.Keys.Order());
        Assert.Equal(reported.OrderBy(r => r.Key).Select(r => new RungValue(r.Key, r.Value)), result.Rungs!);
        // The same values every time it is sent again.
        Assert.Equal(result.Rungs!, ((ChildResult)coordinator.FishForMessage(m => m is ChildResult, TimeSpan.FromSeconds(5))).Rungs!);
    }

    /// <summary>A worker with a probe as its coordinator, registered and healthy, that has asked for work.</summary>
    private IActorRef ReadyWorker(string id, IChildTrainer trainer, Akka.TestKit.TestProbe coordinator)
    {
        var worker = Sys.ActorOf(DeviceWorker.Props(id, "cpu", trainer, coordinator.Ref));
        coordinator.ExpectMsg<RegisterWorker>();
        worker.Tell(new WorkerRegistered(id), coordinator.Ref);
        coordinator.FishForMessage(m => m is DeviceHealthy);
        worker.Tell(new DeviceHealthRecorded(id, true), coordinator.Ref);
        coordinator.FishForMessage(m => m is RequestWork);
        return worker;
    }
}
