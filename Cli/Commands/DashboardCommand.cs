using System.CommandLine;
using NasActors.Protocol;
using NasActors.Reports.Dashboard;

namespace NasActors.Cli.Commands;

/// <summary><c>nas dashboard</c>: the report's views, live, on a local web page, until Ctrl-C.</summary>
public static class DashboardCommand
{
    public const int DefaultPort = 8080;

    public static Command Create()
    {
        var runs = new RunOption(many: true);
        var port = new Option<int>("--port") { Description = $"port to listen on (default {DefaultPort}; 0: any free port)", DefaultValueFactory = _ => DefaultPort };
        var host = new Option<string>("--host") { Description = "address to listen on (default 127.0.0.1: this machine only)", DefaultValueFactory = _ => "127.0.0.1" };
        var top = ReportCommand.TopOption();
        var command = new Command("dashboard", "Serve a live web page of one or more runs (read-only)") { port, host, top };
        runs.AddTo(command);
        command.SetAction((parse, cancel) => CommandErrors.GuardAsync(async () =>
        {
            await using var server = await DashboardServer.StartAsync(runs.OpenAll(parse), Listen(parse, host, port), ReportCommand.Top(parse, top), null, cancel);
            Announce(server);
            await Task.Delay(Timeout.Infinite, cancel).ContinueWith(_ => { });
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>Where to listen, from a host and a port option; either wrong is one line naming its option.</summary>
    public static ListenAddress Listen(ParseResult parse, Option<string> host, Option<int?> port) =>
        Listen(parse.GetValue(host)!, parse.GetValue(port) ?? DefaultPort, host.Name, port.Name);

    public static ListenAddress Listen(ParseResult parse, Option<string> host, Option<int> port) =>
        Listen(parse.GetValue(host)!, parse.GetValue(port), host.Name, port.Name);

    private static ListenAddress Listen(string host, int port, string hostOption, string portOption)
    {
        if (ListenAddress.PortProblem(port) is { } p) throw new InputException(portOption, p);
        return ListenAddress.HostProblem(host) is { } h ? throw new InputException(hostOption, h) : new(host, port);
    }

    /// <summary>The address on stdout, one line, so scripts and tests can pick it up.</summary>
    public static void Announce(DashboardServer server)
    {
        Console.Out.WriteLine($"dashboard: {server.Address}");
        Console.Out.Flush();
    }
}
