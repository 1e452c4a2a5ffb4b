using System.Text.RegularExpressions;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using NasActors.Hosting;
using NasActors.Tests.Support;

namespace NasActors.Tests.Hosting;

/// <summary>Which of Akka's lines the node's log leaves out because <see cref="MembershipLog"/> says them in words; the memory lines it writes.</summary>
public sealed class RunLogTests
{
    private const string Peer = "akka.tcp://nas@127.0.0.1:41085";

    [Theory]
    [InlineData("Tried to associate with unreachable remote address [akka.tcp://nas@127.0.0.1:41085]. Address is now gated for 5000 ms, all messages to this address will be delivered to dead letters. Reason: [Connection refused tcp://nas@127.0.0.1:41085] ", true)]
    // A seed nobody reported away (this node cannot reach it to join): the operator must see it.
    [InlineData("Tried to associate with unreachable remote address [akka.tcp://nas@127.0.0.1:4711]. Address is now gated for 5000 ms, all messages to this address will be delivered to dead letters. Reason: [Connection refused tcp://nas@127.0.0.1:4711] ", false)]
    [InlineData("Association with remote system akka.tcp://nas@127.0.0.1:41085 has failed; address is now gated for 5000 ms. Reason is: [Akka.Remote.EndpointDisassociatedException: Disassociated", true)]
    [InlineData("Cluster Node [akka.tcp://nas@127.0.0.1:4711] - Marking node(s) as UNREACHABLE [Member(address = akka.tcp://nas@127.0.0.1:41085, status = Up)]", true)]
    [InlineData("SBR took decision Akka.Cluster.SBR.DownUnreachable and is downing [akka.tcp://nas@127.0.0.1:41085], [1] unreachable of [2] members", true)]
    // Two trainer nodes that died seconds apart (one saw the other unreachable first): each has its membership line.
    [InlineData("SBR took decision Akka.Cluster.SBR.DownIndirectlyConnected and is downing [akka.tcp://nas@127.0.0.1:46657, akka.tcp://nas@127.0.0.1:40403], [2] unreachable of [4] members, indirectly connected [UniqueAddress: (akka.tcp://nas@127.0.0.1:40403, 1424284279)], full reachability status: [Reachability([akka.tcp://nas@127.0.0.1:34459 -> UniqueAddress: (akka.tcp://nas@127.0.0.1:46657, 890831262): Unreachable [Unreachable] (1)], [akka.tcp://nas@127.0.0.1:34459 -> UniqueAddress: (akka.tcp://nas@127.0.0.1:40403, 1424284279): Unreachable [Unreachable] (2)][akka.tcp://nas@127.0.0.1:40403 -> UniqueAddress: (akka.tcp://nas@127.0.0.1:46657, 890831262): Unreachable [Unreachable] (2)])]", true)]
    [InlineData("SBR took decision Akka.Cluster.SBR.DownIndirectlyConnected and is downing [akka.tcp://nas@127.0.0.1:41085, akka.tcp://nas@127.0.0.1:4711] including myself, , [1] unreachable of [3] members", false)]
    // This node's own side downs itself on a partition: the operator must see it.
    [InlineData("SBR took decision Akka.Cluster.SBR.DownReachable and is downing [akka.tcp://nas@127.0.0.1:4711], [1] unreachable of [2] members", false)]
    [InlineData("Association with remote system akka.tcp://nas@127.0.0.1:41085 has failed; address is now gated for 5000 ms. Reason is: [Akka.Remote.Transport.DotNetty.DotNettyTlsHandshakeFailureException", false)]
    public void Lines_membership_log_restates_are_left_out_and_others_kept(string message, bool restated) =>
        Assert.Equal(restated, RunLog.Restated(new Warning("remoting (akka://nas)", typeof(RunLogTests), message), new HashSet<string> { Peer }));

    [Theory]
    [InlineData("Cluster Node [akka.tcp://nas@127.0.0.1:33439] - Scheduled sending of heartbeat was delayed. Previous heartbeat was sent [20918.4309] ms ago, expected interval is [1000] ms. This may cause failure detection to mark members as unreachable. The reason can be thread starvation, e.g. by running blocking tasks on the default dispatcher, CPU overload, or GC.",
        "this node did not run for about 19.9 s (it was paused, starved of CPU, or in a long collection): the other nodes may mark it unreachable and remove it, and it then joins again by itself; nothing is needed unless it happens often")]
    [InlineData("SBR took decision Akka.Cluster.SBR.DownReachable and is downing [akka.tcp://nas@127.0.0.1:33439] including myself, , [3] unreachable of [4] members, full reachability status: [Reachability([akka.tcp://nas@127.0.0.1:33439 -> UniqueAddress: (akka.tcp://nas@127.0.0.1:4910, 1): Unreachable [Unreachable] (1)])]",
        "this node lost contact with the cluster (3 of 4 members unreachable from here) and leaves it, as the side that cannot reach the others; it joins again by itself and anything it was training is trained elsewhere; nothing is needed unless it happens often")]
    [InlineData("SBR took decision Akka.Cluster.SBR.DownIndirectlyConnected and is downing [akka.tcp://nas@127.0.0.1:41085, akka.tcp://nas@127.0.0.1:4711] including myself, , [1] unreachable of [3] members",
        "this node lost contact with the cluster (1 of 3 members unreachable from here) and leaves it, as the side that cannot reach the others; it joins again by itself and anything it was training is trained elsewhere; nothing is needed unless it happens often")]
    [InlineData("Tried to associate with unreachable remote address [akka.tcp://nas@127.0.0.1:4911]. Address is now gated for 5000 ms, all messages to this address will be delivered to dead letters. Reason: [Connection refused tcp://nas@127.0.0.1:4911] ",
        "cannot reach akka.tcp://nas@127.0.0.1:4911 (Connection refused); trying again in 5 s: nothing is needed if it is a node not started yet, else check that it runs and that --join names it")]
    [InlineData("Tried to associate with unreachable remote address [akka.tcp://nas@[::1]:4911]. Address is now gated for 5000 ms, all messages to this address will be delivered to dead letters. Reason: [Connection refused [::1]:4911] ",
        "cannot reach akka.tcp://nas@[::1]:4911 (Connection refused [::1]:4911); trying again in 5 s: nothing is needed if it is a node not started yet, else check that it runs and that --join names it")]
    [InlineData("Association with remote system akka.tcp://nas@127.0.0.1:41085 has failed; address is now gated for 5000 ms. Reason is: [Akka.Remote.Transport.DotNetty.DotNettyTlsHandshakeFailureException", null)]
    // Numbers that do not read: the line stays as Akka wrote it.
    [InlineData("Cluster Node [akka.tcp://nas@127.0.0.1:33439] - Scheduled sending of heartbeat was delayed. Previous heartbeat was sent [1.2.3] ms ago, expected interval is [1000] ms.", null)]
    // Downing the other side (this one stays) is left to the membership log's line.
    [InlineData("SBR took decision Akka.Cluster.SBR.DownUnreachable and is downing [akka.tcp://nas@127.0.0.1:41085], [1] unreachable of [2] members", null)]
    public void Lines_of_a_paused_node_and_of_a_node_not_reached_are_said_in_words(string message, string? words) =>
        Assert.Equal(words, RunLog.Reworded(message));

    [Fact]
    public async Task The_log_says_the_process_memory_at_its_cadence_whatever_the_log_level()
    {
        using var dir = new TempDir();
        var file = Path.Combine(dir.Path, "node.log");
        var config = ConfigurationFactory.ParseString($$"""
            akka.loglevel = WARNING
            akka.loggers = ["NasActors.Hosting.RunLog, NasActors.Hosting"]
            nas.log-file = "{{file}}"
            """);
        var system = ActorSystem.Create("memory", config);
        try
        {
            system.ActorOf(MemoryLog.Props(TimeSpan.FromMilliseconds(100)));
            var lines = Array.Empty<string>();
            for (var i = 0; i < 100 && lines.Length < 2; i++)
            {
                await Task.Delay(100);
                lines = File.Exists(file) ? File.ReadAllLines(file).Where(l => l.Contains("[memory]")).ToArray() : [];
            }
            Assert.True(lines.Length >= 2, "fewer than two memory lines in 10 s");
            var m = Regex.Match(lines[0], @"Info \[memory\] memory: resident (\d+\.\d) MB \(anonymous (\d+\.\d) MB\), managed heap (\d+\.\d) MB \(in use (\d+\.\d) MB, old generations (\d+\.\d) MB, \d+ full collections?\)$");
            Assert.True(m.Success, lines[0]);
            var resident = double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            var anonymous = double.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
            var heap = double.Parse(m.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(resident, 10, 100_000);
            // Linux: the managed heap is anonymous memory, part of the resident set.
            Assert.InRange(anonymous, heap, resident);
            Assert.InRange(heap, 0.1, resident);
            Assert.InRange(double.Parse(m.Groups[4].Value, System.Globalization.CultureInfo.InvariantCulture), 0.1, heap);
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Fact]
    public void A_memory_cadence_below_zero_is_refused_and_zero_means_never()
    {
        Assert.Equal(TimeSpan.Zero, MemoryLog.Cadence(ConfigurationFactory.ParseString("nas.memory-log-every = 0s")));
        Assert.Equal(TimeSpan.FromHours(1), MemoryLog.Cadence(ConfigurationFactory.Empty));
        foreach (var value in new[] { "-1s", "often" })
        {
            var e = Assert.Throws<FormatException>(() => MemoryLog.Cadence(ConfigurationFactory.ParseString($"nas.memory-log-every = {value}")));
            Assert.StartsWith("nas.memory-log-every must be 0 (never) or a duration such as 1h", e.Message);
        }
    }

    [Fact]
    public void A_journal_that_cannot_be_read_or_written_is_said_with_what_follows()
    {
        var down = new InvalidOperationException("outer", new System.Net.Sockets.SocketException(111));
        Assert.Equal("the evaluator could not read the run's journal to recover (Connection refused); it tries again with backoff, and nothing stored is lost",
            NasActors.Persistence.JournalTrouble.Recovery("the evaluator", down, null, 0));
        Assert.Equal("the coordinator could not write ChildTrained (event 416) to the run's journal (Connection refused); it starts again from what is stored " +
                     "once the database answers, and what was not stored is reported or decided again: nothing is lost",
            NasActors.Persistence.JournalTrouble.Write("the coordinator", down, new NasActors.Search.Events.ChildTrained(1, "w", 0.5, 0.1, 1, 1, 1), 416));
    }
}
