using Akka.Event;
using NasActors.Hosting;

namespace NasActors.Tests.Hosting;

/// <summary>Which of Akka's lines the node's log leaves out because <see cref="MembershipLog"/> says them in words.</summary>
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
    // This node's own side downs itself on a partition: the operator must see it.
    [InlineData("SBR took decision Akka.Cluster.SBR.DownReachable and is downing [akka.tcp://nas@127.0.0.1:4711], [1] unreachable of [2] members", false)]
    [InlineData("Association with remote system akka.tcp://nas@127.0.0.1:41085 has failed; address is now gated for 5000 ms. Reason is: [Akka.Remote.Transport.DotNetty.DotNettyTlsHandshakeFailureException", false)]
    public void Lines_membership_log_restates_are_left_out_and_others_kept(string message, bool restated) =>
        Assert.Equal(restated, RunLog.Restated(new Warning("remoting (akka://nas)", typeof(RunLogTests), message), new HashSet<string> { Peer }));
}
