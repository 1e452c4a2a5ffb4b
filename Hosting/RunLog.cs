using Akka.Actor;
using Akka.Dispatch;
using Akka.Event;

namespace NasActors.Hosting;

/// <summary>Akka's log, written to the run folder's node.log (the terminal belongs to the live view), or stderr.</summary>
public sealed class RunLog : ReceiveActor, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    public RunLog()
    {
        var path = Context.System.Settings.Config.GetString("nas.log-file", "");
        IReadOnlySet<string> away = new HashSet<string>();
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<MembershipLog.PeersAway>(p => away = p.Addresses);
        Receive<LogEvent>(e =>
        {
            if (Restated(e, away)) return;
            // One line per entry: Akka puts whole stack traces into some messages (remoting errors).
            Write(path, $"{e.Timestamp:O} {e.LogLevel().ToString().Replace("Level", "")} [{e.LogSource}] {FirstLine(e.Message?.ToString())}{(e.Cause is null ? "" : " " + FirstLine(e.Cause.Message))}");
        });
        Receive<MemoryLog.Sample>(m => Write(path, $"{DateTime.UtcNow:O} Info [memory] {m.Line}"));
    }

    protected override void PreStart()
    {
        Context.System.EventStream.Subscribe(Self, typeof(MembershipLog.PeersAway));
        Context.System.EventStream.Subscribe(Self, typeof(MemoryLog.Sample));
    }

    private static void Write(string path, string line)
    {
        if (path.Length == 0) Console.Error.WriteLine(line);
        else File.AppendAllText(path, line + Environment.NewLine);
    }

    // Akka.Remote's exception for a connection the other side closed (internal to Akka.Remote).
    private const string Disassociated = "EndpointDisassociatedException";

    /// <summary>
    /// Akka's lines for another node's connection closing, its reachability changing, its downing,
    /// and the transport's retries to reach a node that is <paramref name="away"/>: <see cref="MembershipLog"/>
    /// says each in words that tell what happened and what is needed (a node that left cleanly was
    /// logged as an Error "Disassociated"). Other transport lines stay (a seed that cannot be reached).
    /// </summary>
    public static bool Restated(LogEvent e, IReadOnlySet<string> away) =>
        e.Cause?.GetType().Name == Disassociated
        || e.Message?.ToString() is { } m && (m.Contains(Disassociated, StringComparison.Ordinal)
            || m.Contains("Marking node(s) as UNREACHABLE", StringComparison.Ordinal)
            || m.Contains("Marking node(s) as REACHABLE", StringComparison.Ordinal)
            || m.StartsWith("SBR took decision Akka.Cluster.SBR.DownUnreachable", StringComparison.Ordinal)
            || m.StartsWith("Tried to associate with unreachable remote address", StringComparison.Ordinal) && away.Any(a => m.Contains($"[{a}]", StringComparison.Ordinal)));

    private static string FirstLine(string? text) => (text ?? "").Split('\n')[0].TrimEnd('\r');
}
