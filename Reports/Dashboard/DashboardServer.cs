using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using NasActors.Persistence;

namespace NasActors.Reports.Dashboard;

/// <summary>
/// The live dashboard: serves the report page and pushes the report model as server-sent events
/// whenever a run's journal moves. Read-only: it reads the run folders like <c>nas status</c>, with
/// no lock, and never writes to them.
/// </summary>
public sealed class DashboardServer : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly CancellationTokenSource stop;
    private readonly Task following;

    private DashboardServer(WebApplication app, JournalFollower follower, Uri address, CancellationTokenSource stop)
    {
        this.app = app;
        this.stop = stop;
        Address = address;
        following = follower.RunAsync(stop.Token);
    }

    public Uri Address { get; }

    /// <param name="progress">
    /// Epoch progress of running children, where a search runs in this process; the page then
    /// waits for the search's first event instead of requiring one now.
    /// </param>
    public static async Task<DashboardServer> StartAsync(IReadOnlyList<RunStore> runs, ListenAddress listen, int top,
        Func<Task<IReadOnlyDictionary<long, (int Epoch, int Epochs)>>>? progress, CancellationToken cancel)
    {
        // On its own, it fails here, in one line, when a folder holds no run: before anything listens.
        var names = RunReports.Names(runs);
        // Each run's latest snapshot and the events after it: enough to know it is a started run.
        if (progress is null)
            foreach (var r in runs) r.ReadStarted();
        var stop = new CancellationTokenSource();
        var follower = new JournalFollower(runs, names, top, progress, stop.Token);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(listen.Url);
        var app = builder.Build();
        var page = ReportPage.Live(ReportPage.Title(names));
        app.MapGet("/", () => Results.Content(page, "text/html; charset=utf-8"));
        app.MapGet("/api/model", () => Results.Content(follower.Current.Json, "application/json"));
        app.MapGet("/api/events", (CancellationToken aborted) => TypedResults.ServerSentEvents(follower.Stream(aborted)));
        try
        {
            await app.StartAsync(cancel);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
        {
            await app.DisposeAsync();
            throw new IOException($"{listen}: cannot listen ({e.Message.Split('\n')[0]})", e);
        }
        return new DashboardServer(app, follower, new Uri(app.Urls.First() + "/"), stop);
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        await following;
        await app.StopAsync();
        await app.DisposeAsync();
        stop.Dispose();
    }

    /// <summary>
    /// Polls the journals for entries after the last one read (as Akka's own live queries poll the
    /// table) and publishes a new model when they moved, at most once a second, and no more often
    /// than every three build times (a 20,000-child model takes about a second to build, and a
    /// dashboard must not take a core from the search beside it); while children run, also every
    /// few seconds so their elapsed time and epochs move.
    /// </summary>
    private sealed class JournalFollower
    {
        /// <summary>One version of the model; <see cref="Next"/> completes when the following one is out.</summary>
        public sealed record Published(int Version, string Json, bool Running, string? Problem, Task Next);

        private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);
        private static readonly TimeSpan RunningRefresh = TimeSpan.FromSeconds(3);
        private readonly IReadOnlyList<RunStore> runs;
        private readonly IReadOnlyList<string> names;
        private readonly int top;
        private readonly Func<Task<IReadOnlyDictionary<long, (int Epoch, int Epochs)>>>? progress;
        // Ends every event stream when the server stops, so an open page never holds up the exit.
        private readonly CancellationToken lifetime;
        private readonly List<StoredEvent>[] journals;
        private readonly bool?[] wasWriting;
        private TaskCompletionSource next = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private Published current;

        public JournalFollower(IReadOnlyList<RunStore> runs, IReadOnlyList<string> names, int top,
            Func<Task<IReadOnlyDictionary<long, (int Epoch, int Epochs)>>>? progress, CancellationToken lifetime)
        {
            (this.runs, this.names, this.top, this.progress, this.lifetime) = (runs, names, top, progress, lifetime);
            journals = runs.Select(_ => new List<StoredEvent>()).ToArray();
            wasWriting = new bool?[runs.Count];
            // Version 0 has no model yet: the page waits for the first one.
            current = new(0, "null", true, null, next.Task);
        }

        public Published Current => Volatile.Read(ref current);

        public async Task RunAsync(CancellationToken cancel)
        {
            var last = DateTimeOffset.MinValue;
            string? problem = null;
            var pause = Poll;
            while (!cancel.IsCancellationRequested)
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                try
                {
                    var moved = false;
                    var writing = new bool?[runs.Count];
                    for (var i = 0; i < runs.Count; i++)
                    {
                        // A journal replaced by another run's starts over (its first event differs).
                        if (journals[i].Count > 0 && runs[i].FirstEventAt() != journals[i][0].At)
                        {
                            journals[i].Clear();
                            moved = true;
                        }
                        var fresh = runs[i].ReadStoredEvents(journals[i].Count == 0 ? 0 : journals[i][^1].SequenceNr);
                        journals[i].AddRange(fresh);
                        moved |= fresh.Count > 0;
                        writing[i] = runs[i].WriterAlive();
                        moved |= writing[i] != wasWriting[i];
                        wasWriting[i] = writing[i];
                    }
                    var now = DateTimeOffset.UtcNow;
                    var started = journals.All(j => j.Count > 0);
                    if (started && (moved || problem is not null || (Current.Running && now - last >= RunningRefresh)))
                    {
                        var epochs = progress is null ? null : await progress();
                        var model = new ReportModel(
                            journals.Select((j, i) => RunReportBuilder.Build(names[i], j, now, top, epochs, writing[i], runs[i].JournalName)).ToList(), now, true, SearchSpace.OpNames.AllNames);
                        Publish(JsonSerializer.Serialize(model, ReportPage.Json), model.Runs.Any(r => r.Running.Count > 0), null);
                        problem = null;
                        last = now;
                        pause = TimeSpan.FromTicks(Math.Max(Poll.Ticks, 3 * clock.Elapsed.Ticks));
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // A journal being replaced or damaged, a folder gone: say so on the page, keep the
                    // last good model, and retry; the server itself lives on.
                    if (problem != e.Message) Publish(Current.Json, Current.Running, problem = e.Message);
                }
                await Task.Delay(pause, cancel).ContinueWith(_ => { });
            }
        }

        private void Publish(string json, bool running, string? problem)
        {
            var done = next;
            next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref current, new Published(Current.Version + 1, json, running, problem, next.Task));
            done.TrySetResult();
        }

        public async IAsyncEnumerable<System.Net.ServerSentEvents.SseItem<string>> Stream([EnumeratorCancellation] CancellationToken aborted)
        {
            using var end = CancellationTokenSource.CreateLinkedTokenSource(aborted, lifetime);
            var seen = -1;
            while (!end.IsCancellationRequested)
            {
                var p = Current;
                if (p.Version != seen && p.Version > 0)
                {
                    // A new viewer gets the last good model first, then any problem since.
                    if (seen < 0 || p.Problem is null) yield return new(p.Json, "model");
                    if (p.Problem is not null) yield return new(JsonSerializer.Serialize(new { message = p.Problem }), "problem");
                    seen = p.Version;
                }
                try
                {
                    await p.Next.WaitAsync(end.Token);
                }
                catch (OperationCanceledException)
                {
                    yield break;
                }
            }
        }
    }
}
