using Akka.Actor;
using Akka.Dispatch;
using Akka.Event;

namespace NasActors.Node.Hosting;

/// <summary>Akka's log, written to the run folder's node.log (the terminal belongs to the live view), or stderr.</summary>
public sealed class RunLog : ReceiveActor, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    public RunLog()
    {
        var path = Context.System.Settings.Config.GetString("nas.log-file", "");
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(e =>
        {
            var line = $"{e.Timestamp:O} {e.LogLevel().ToString().Replace("Level", "")} [{e.LogSource}] {e.Message}{(e.Cause is null ? "" : " " + e.Cause.Message)}";
            if (path.Length == 0) Console.Error.WriteLine(line);
            else File.AppendAllText(path, line + Environment.NewLine);
        });
    }
}
