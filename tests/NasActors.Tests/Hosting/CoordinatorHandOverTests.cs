using System.Diagnostics;
using NasActors.Persistence;
using NasActors.Search.Events;
using NasActors.Tests.Support;
using Xunit.Abstractions;
using static NasActors.Tests.Support.ClusterProcesses;

namespace NasActors.Tests.Hosting;

/// <summary>The coordinator's node dies (SIGKILL) with a standby coordinator up: the singleton moves, recovers from PostgreSQL, and nothing is trained twice.</summary>
[Collection("postgres")]
public sealed class CoordinatorHandOverTests(PostgresServer postgres, ITestOutputHelper output)
{
    private const int Budget = 30;

    [Fact]
    public async Task A_standby_coordinator_takes_over_a_killed_one_and_every_child_on_a_live_worker_is_trained_once()
    {
        var db = postgres.NewDatabase();
        var url = PostgresUrl.Parse(db);
        var seed = $"127.0.0.1:{FreePort()}";
        using var search = Start(SeedSearch(seed, "--journal", db, "--run", "exp", "--children", $"{Budget}", "--top-k", "1", "--strategy", "random", "--seed", "9", "--json"));
        Process? standby = null, trainers = null;
        try
        {
            await WaitFor(() => new DatabaseRunStore(url, "exp").Read().State, s => s.Settings is not null, TimeSpan.FromSeconds(60));
            standby = Start("node", "--join", seed, "--roles", "coordinator,evaluator", "--journal", db, "--run", "exp");
            await Announced(standby);
            // Children long enough that several are in training when the coordinator dies.
            trainers = Start("node", "--join", seed, "--trainer", "synthetic:3000", "--workers-per-device", "3");
            await Announced(trainers);
            // Killed once three children have been in training for a second: a child whose assignment
            // is stored but whose job had not left the old coordinator is rightly requeued (its worker
            // asks the new one for work), which this test is not about.
            List<long> training;
            while (true)
            {
                await WaitFor(() => new DatabaseRunStore(url, "exp").Read().State, s => s.Trained >= 3 && s.SearchJobs.Running.Count == 3, TimeSpan.FromSeconds(90));
                var assigned = new DatabaseRunStore(url, "exp").Read().State.SearchJobs.Running.Keys.ToHashSet();
                await Task.Delay(TimeSpan.FromSeconds(1));
                training = new DatabaseRunStore(url, "exp").Read().State.SearchJobs.Running.Keys.ToList();
                if (assigned.SetEquals(training)) break;
            }

            search.Kill();
            var killed = DateTimeOffset.UtcNow;

            await WaitFor(() => new DatabaseRunStore(url, "exp").Read().State, s => s.Finished, TimeSpan.FromMinutes(2));
            var stored = new DatabaseRunStore(url, "exp").ReadStoredEvents();
            var events = stored.Select(e => e.Event).ToList();
            Assert.Equal(Budget, events.OfType<ChildSampled>().Count());
            JournalAssert.EachTrainedOnce(events, Budget);
            // The children in training at the kill stayed with their live workers: none requeued, none assigned twice.
            Assert.Empty(events.OfType<ChildRequeued>());
            var trainedTwice = events.OfType<ChildAssigned>().Where(a => !a.Final).GroupBy(a => a.ChildId).Count(g => g.Count() > 1);
            Assert.Equal(0, trainedTwice);
            Assert.All(training, id => Assert.Contains(events.OfType<ChildTrained>(), t => t.ChildId == id));
            // What an operator sees, in one run: when the new coordinator first wrote, first stored a result, first dispatched.
            var firstWrite = stored.First(e => e.At > killed);
            var firstResult = stored.First(e => e.At > killed && e.Event is ChildTrained);
            var firstDispatch = stored.First(e => e.At > killed && e.Event is ChildAssigned);
            output.WriteLine($"coordinator killed: the new one first wrote {(firstWrite.At - killed).TotalSeconds:F1} s later, stored its first result at " +
                             $"{(firstResult.At - killed).TotalSeconds:F1} s, first dispatched at {(firstDispatch.At - killed).TotalSeconds:F1} s; children trained twice: {trainedTwice}");
            Assert.True(firstDispatch.At - killed < TimeSpan.FromSeconds(45), $"hand-over took {(firstDispatch.At - killed).TotalSeconds:F1} s");

            Assert.All(new[] { standby, trainers }, node => Assert.Equal(0, StopsOnSigterm(node)));

            // Where the time goes, from the standby's log: each step's line, seconds after the kill.
            var log = (await standby.StandardError.ReadToEndAsync()).Split('\n');
            double At(string text)
            {
                var line = log.FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal));
                Assert.True(line is not null, $"the standby's log has no line with \"{text}\":\n{string.Join('\n', log)}");
                return (DateTimeOffset.Parse(line.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) - killed).TotalSeconds;
            }
            var old = $"node akka.tcp://nas@{seed} ";
            output.WriteLine($"takeover: the old coordinator's node unreachable at {At(old + "is unreachable"):F1} s (failure detector), removed at {At(old + "was removed"):F1} s " +
                             $"(stable-after, downing), lease taken at {At("took the run's writer lease"):F1} s (singleton hand-over), run recovered at {At("search resumed at event"):F1} s, " +
                             $"first write at {(firstWrite.At - killed).TotalSeconds:F1} s");
        }
        finally
        {
            foreach (var p in new[] { search, standby, trainers })
                if (p is { HasExited: false }) p.Kill();
            standby?.Dispose();
            trainers?.Dispose();
        }
    }
}
