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
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(e =>
        {
            // One line per entry: Akka puts whole stack traces into some messages (remoting errors).
            var line = $"{e.Timestamp:O} {e.LogLevel().ToString().Replace("Level", "")} [{e.LogSource}] {FirstLine(e.Message?.ToString())}{(e.Cause is null ? "" : " " + FirstLine(e.Cause.Message))}";
            if (path.Length == 0) Console.Error.WriteLine(line);
            else File.AppendAllText(path, line + Environment.NewLine);
        });
    }

    private static string FirstLine(string? text) => (text ?? "").Split('\n')[0].TrimEnd('\r');
}
