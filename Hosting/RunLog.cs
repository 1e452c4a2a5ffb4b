using System.Globalization;
using System.Text.RegularExpressions;
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
            var message = FirstLine(e.Message?.ToString());
            Write(path, $"{e.Timestamp:O} {e.LogLevel().ToString().Replace("Level", "")} [{e.LogSource}] {Reworded(message) ?? message}{(e.Cause is null ? "" : " " + FirstLine(e.Cause.Message))}");
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
            || DownedOthers.IsMatch(m)
            || m.StartsWith("Tried to associate with unreachable remote address", StringComparison.Ordinal) && away.Any(a => m.Contains($"[{a}]", StringComparison.Ordinal)));

    private static readonly Regex HeartbeatDelayed = new(@"Scheduled sending of heartbeat was delayed\. Previous heartbeat was sent \[([\d.]+)\] ms ago, expected interval is \[(\d+)\] ms", RegexOptions.CultureInvariant);
    // Downing unreachable nodes, seen directly or through others, while this node stays.
    private static readonly Regex DownedOthers = new(@"^SBR took decision Akka\.Cluster\.SBR\.(DownUnreachable|DownIndirectlyConnected) and is downing \[[^\]]*\](?! including myself)", RegexOptions.CultureInvariant);
    private static readonly Regex DownedItself = new(@"^SBR took decision Akka\.Cluster\.SBR\.\w+ and is downing .* including myself.*\[(\d+)\] unreachable of \[(\d+)\] members", RegexOptions.CultureInvariant);
    private static readonly Regex CannotReach = new(@"^Tried to associate with unreachable remote address \[(.+?)\]\. Address is now gated for (\d+) ms.*Reason: \[(.*?)(?: tcp://\S+)?\]\s*$", RegexOptions.CultureInvariant);

    /// <summary>
    /// Akka's lines for what an operator meets on a machine that was paused or starved (a delayed
    /// heartbeat, this node's side downing itself) and for a node this one cannot reach (a seed
    /// not started yet), said as what happened and whether anything is needed; null for the rest,
    /// and for a line whose numbers do not read (it is then written as Akka wrote it).
    /// </summary>
    public static string? Reworded(string message)
    {
        if (HeartbeatDelayed.Match(message) is { Success: true } h
            && double.TryParse(h.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var sinceMs)
            && double.TryParse(h.Groups[2].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var intervalMs))
            // The heartbeat was due one interval after the previous one: the node was held up for the rest.
            return $"this node did not run for about {Math.Max(0, sinceMs - intervalMs) / 1000:0.0} s (it was paused, starved of CPU, or in a long collection): " +
                   "the other nodes may mark it unreachable and remove it, and it then joins again by itself; nothing is needed unless it happens often";
        if (DownedItself.Match(message) is { Success: true } d)
            return $"this node lost contact with the cluster ({d.Groups[1].Value} of {d.Groups[2].Value} members unreachable from here) and leaves it, as the side that cannot reach the others; " +
                   "it joins again by itself and anything it was training is trained elsewhere; nothing is needed unless it happens often";
        if (CannotReach.Match(message) is { Success: true } c && double.TryParse(c.Groups[2].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var gatedMs))
            return $"cannot reach {c.Groups[1].Value} ({c.Groups[3].Value.Trim()}); trying again in {gatedMs / 1000:0.#} s: " +
                   "nothing is needed if it is a node not started yet, else check that it runs and that --join names it";
        return null;
    }

    private static string FirstLine(string? text) => (text ?? "").Split('\n')[0].TrimEnd('\r');
}
