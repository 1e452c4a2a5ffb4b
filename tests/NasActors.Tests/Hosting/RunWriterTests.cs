using Akka.Actor;
using Akka.Configuration;
using NasActors.Controller.Coordinator;
using NasActors.Hosting;
using NasActors.Protocol.Messages;
using NasActors.Persistence;

namespace NasActors.Tests.Hosting;

/// <summary>The singleton's lifecycle around its lease: writers run only while it is held, and it goes only once they have stopped.</summary>
public sealed class RunWriterTests() : Akka.TestKit.Xunit2.TestKit(ConfigurationFactory.ParseString("""
    akka.actor.provider = local
    akka.loggers = ["Akka.Event.DefaultLogger"]
    """))
{
    /// <summary>A lease another process may hold; "losing" it is what a dropped database connection does.</summary>
    private sealed class FakeLease : IWriterLease
    {
        private readonly Lock gate = new();

        public bool HeldElsewhere { get; set; }

        /// <summary>Where set, a try to take the lease waits until it opens (<see cref="Waiting"/> says one does).</summary>
        public ManualResetEventSlim? Gate { get; set; }

        public ManualResetEventSlim Waiting { get; } = new();

        public bool Held { get; private set; }

        public int Taken { get; private set; }

        private int tries;

        /// <summary>Tries begun: the one after a try begins only once the writer has had its answer.</summary>
        public int Tries => Volatile.Read(ref tries);

        public string? TryAcquire()
        {
            Interlocked.Increment(ref tries);
            if (Gate is { } open)
            {
                Waiting.Set();
                open.Wait();
            }
            lock (gate)
            {
                if (HeldElsewhere) return "pid 1 on elsewhere";
                Held = true;
                Taken++;
                return null;
            }
        }

        public bool StillHeld() => Held;

        public void Lose() => Held = false;

        public void Release() => Held = false;

        public void Dispose() => Release();
    }

    /// <summary>Stands for the coordinator (or the evaluator): tells the test what it receives, and whether the lease was still held as it stopped.</summary>
    private sealed class Writer : ReceiveActor
    {
        private readonly FakeLease lease;
        private readonly IActorRef probe;
        private readonly string name;
        private readonly Func<bool> finished;

        public Writer(string name, FakeLease lease, IActorRef probe, Func<bool> finished)
        {
            (this.name, this.lease, this.probe, this.finished) = (name, lease, probe, finished);
            Receive<GetSearchStatus>(_ => Sender.Tell(new SearchStatus(5, 5, 5, 0, 0, 0.5, 0, true, 0, 0, finished(), [], "exp/search")));
            ReceiveAny(m => probe.Tell((name, m)));
        }

        // A coordinator whose run is finished says so, as the real one does once everything is stored.
        protected override void PreStart()
        {
            if (name.StartsWith("coordinator", StringComparison.Ordinal) && finished())
                Context.Parent.Tell(new SearchFinished(new SearchStatus(5, 5, 5, 0, 0, 0.5, 0, true, 0, 0, true, [], "exp/search")));
        }

        protected override void PostStop() => probe.Tell((name, (object)(lease.Held ? "stopped holding the lease" : "stopped without the lease")));
    }

    private IActorRef Start(FakeLease lease, Func<bool> finished, Func<int?> storedBudget, Func<SearchStatus?>? storedFinished = null) =>
        Sys.ActorOf(RunWriter.Props(lease, (context, generation) =>
        {
            context.ActorOf(Akka.Actor.Props.Create(() => new Writer($"evaluator-{generation}", lease, TestActor, finished)), $"evaluator-{generation}");
            return context.ActorOf(Akka.Actor.Props.Create(() => new Writer($"coordinator-{generation}", lease, TestActor, finished)), $"coordinator-{generation}");
        }, storedBudget, storedFinished ?? (() => null)));

    [Fact]
    public void Messages_reach_the_coordinator_only_while_the_lease_is_held_and_a_lost_lease_starts_a_new_generation()
    {
        var lease = new FakeLease { HeldElsewhere = true };
        var writer = Start(lease, () => false, () => 5);
        writer.Tell("work?");
        // A try begun after the message came has failed (and dropped it) once the one after it begins, however slow the ticks are under load.
        var before = lease.Tries;
        AwaitCondition(() => lease.Tries >= before + 2, TimeSpan.FromSeconds(10));
        ExpectNoMsg(TimeSpan.FromSeconds(1.5));
        Assert.Equal(0, lease.Taken);

        // A message that comes while the lease is being taken waits for it; the one before, whose try
        // failed, was dropped.
        using var open = new ManualResetEventSlim();
        lease.Gate = open;
        Assert.True(lease.Waiting.Wait(TimeSpan.FromSeconds(5)), "no try to take the lease");
        lease.HeldElsewhere = false;
        writer.Tell("first");
        open.Set();
        Assert.Equal(("coordinator-1", "first"), ExpectMsg<(string, object)>(TimeSpan.FromSeconds(3)));
        lease.Gate = null;
        writer.Tell("work?");
        Assert.Equal(("coordinator-1", "work?"), ExpectMsg<(string, object)>(TimeSpan.FromSeconds(3)));

        lease.Lose();
        var stopped = new[] { ExpectMsg<(string, object)>(TimeSpan.FromSeconds(5)), ExpectMsg<(string, object)>(TimeSpan.FromSeconds(5)) };
        Assert.Equal(["coordinator-1", "evaluator-1"], stopped.Select(s => s.Item1).Order());
        AwaitCondition(() => lease.Taken == 2, TimeSpan.FromSeconds(5));
        writer.Tell("work?");
        Assert.Equal(("coordinator-2", "work?"), ExpectMsg<(string, object)>(TimeSpan.FromSeconds(3)));
    }

    [Fact]
    public async Task A_finished_run_lets_its_lease_go_after_its_writers_stopped_and_takes_it_up_again_when_its_budget_grows()
    {
        var lease = new FakeLease();
        var budget = 5;
        // Finished at the first budget; a grown budget reopens the run.
        var writer = Start(lease, () => budget == 5, () => budget);
        AwaitCondition(() => lease.Taken == 1, TimeSpan.FromSeconds(5));

        // The coordinator says the run is finished as it starts: both writers stop while the lease is still held, then it goes.
        var stopped = new[] { ExpectMsg<(string, object)>(TimeSpan.FromSeconds(10)), ExpectMsg<(string, object)>(TimeSpan.FromSeconds(5)) };
        Assert.All(stopped, s => Assert.Equal("stopped holding the lease", s.Item2));
        AwaitCondition(() => !lease.Held, TimeSpan.FromSeconds(3));
        // Whoever watches for the end still sees it.
        Assert.True((await writer.Ask<SearchStatus>(new GetSearchStatus(), TimeSpan.FromSeconds(3))).Finished);

        budget = 9;
        AwaitCondition(() => lease.Taken == 2, TimeSpan.FromSeconds(10));
        writer.Tell("work?");
        Assert.Equal(("coordinator-2", "work?"), ExpectMsg<(string, object)>(TimeSpan.FromSeconds(3)));
    }

    [Fact]
    public async Task A_run_stored_finished_is_not_recovered_its_lease_goes_at_once_and_a_grown_budget_takes_it_up()
    {
        var lease = new FakeLease();
        var budget = 5;
        var stored = new SearchStatus(5, 5, 5, 0, 0, 0.5, 3, true, 0, 0, true, [], "exp/search");
        var writer = Start(lease, () => false, () => budget, () => budget == 5 ? stored : null);
        AwaitCondition(() => lease.Taken == 1, TimeSpan.FromSeconds(5));
        AwaitCondition(() => !lease.Held, TimeSpan.FromSeconds(3));
        // No writer started: nothing received, nothing stopped.
        writer.Tell("work?");
        ExpectNoMsg(TimeSpan.FromSeconds(1.5));
        Assert.Equal(stored, await writer.Ask<SearchStatus>(new GetSearchStatus(), TimeSpan.FromSeconds(3)));

        budget = 9;
        AwaitCondition(() => lease.Taken == 2, TimeSpan.FromSeconds(10));
        writer.Tell("work?");
        Assert.Equal(("coordinator-1", "work?"), ExpectMsg<(string, object)>(TimeSpan.FromSeconds(3)));
    }
}
