using System.Diagnostics;
using NasActors.Persistence;
using NasActors.Search.Events;
using NasActors.Tests.Support;
using Npgsql;
using Xunit.Abstractions;
using static NasActors.Tests.Support.ClusterProcesses;

namespace NasActors.Tests.Hosting;

/// <summary>
/// A real network partition between hosts (network namespaces): the coordinator's host is cut off
/// from the cluster but still reaches the database. At most one side writes the run, and the
/// search finishes on the side that kept going.
/// </summary>
[Collection("postgres")]
public sealed class PartitionTests(ITestOutputHelper output)
{
    private const int Budget = 40;

    [RootFact]
    public async Task A_partition_leaves_one_writer_and_the_search_finishes_on_the_side_that_goes_on()
    {
        using var net = NetworkNamespaces.Create(3);
        var postgres = new PostgresServer { AlsoListenOn = net.DatabaseAddress };
        await postgres.InitializeAsync();
        try
        {
            var inside = postgres.NewDatabase(net.DatabaseAddress);
            var url = PostgresUrl.Parse(inside.Replace(net.DatabaseAddress, "127.0.0.1"));
            var seed = $"{net.Address(1)}:4053";
            using var search = net.Start(1, SeedSearch(seed, "--journal", inside, "--run", "exp", "--children", $"{Budget}", "--top-k", "1", "--strategy", "random", "--json"));
            var searchErr = search.StandardError.ReadToEndAsync();
            await WaitFor(() => new DatabaseRunStore(url, "exp").Read().State, s => s.Settings is not null, TimeSpan.FromSeconds(60));
            var standby = net.Start(2, "node", "--roles", "coordinator,evaluator", "--journal", inside, "--run", "exp", "--host", net.Address(2), "--port", "4053", "--join", seed);
            var trainers = net.Start(3, "node", "--host", net.Address(3), "--port", "4053", "--join", seed, "--trainer", "synthetic:1000", "--workers-per-device", "3");
            await Announced(standby);
            await Announced(trainers);
            await WaitFor(() => new DatabaseRunStore(url, "exp").Read().State, s => s.Trained >= 6, TimeSpan.FromSeconds(60));

            net.Cut(1);
            var cut = Stopwatch.StartNew();
            var cutAt = DateTimeOffset.UtcNow;
            // The cut-off coordinator is alone with the oldest node, itself: it downs itself and stops writing, in one line.
            Assert.True(search.WaitForExit(TimeSpan.FromSeconds(60)), "the cut-off search kept running");
            var stopped = cut.Elapsed;
            Assert.Equal(1, search.ExitCode);
            var line = (await searchErr).Trim().Split('\n')[^1];
            Assert.Contains("the cluster removed this node", line);

            await WaitFor(() => new DatabaseRunStore(url, "exp").Read().State, s => s.Finished, TimeSpan.FromMinutes(2));
            var stored = new DatabaseRunStore(url, "exp").ReadStoredEvents();
            var events = stored.Select(e => e.Event).ToList();
            JournalAssert.EachTrainedOnce(events, Budget);

            // Never two writers: each writer's entries are one unbroken stretch, and the next writer starts after the last one ended.
            var writers = Writers(url);
            Assert.True(writers.Count >= 2, $"expected the coordinator to move, saw {writers.Count} writer(s)");
            Assert.All(writers, w => Assert.Equal(w.Last - w.First + 1, w.Count));
            foreach (var (before, after) in writers.Zip(writers.Skip(1)))
            {
                Assert.Equal(before.Last + 1, after.First);
                Assert.True(after.FirstAt >= before.LastAt, "a new writer wrote before the old one had stopped");
            }
            var resumed = stored.First(e => e.At > cutAt && e.Event is ChildAssigned);
            output.WriteLine($"partition: the cut-off coordinator stopped {stopped.TotalSeconds:F1} s after the cut; first dispatch on the other side {(resumed.At - cutAt).TotalSeconds:F1} s after it; {writers.Count} writers, one after the other");

            foreach (var node in new[] { standby, trainers }) StopsOnSigterm(node);
        }
        finally
        {
            await postgres.DisposeAsync();
        }
    }

    private sealed record Writer(long First, long Last, long Count, DateTimeOffset FirstAt, DateTimeOffset LastAt);

    private static List<Writer> Writers(PostgresUrl url)
    {
        using var connection = new NpgsqlConnection(url.Unpooled);
        connection.Open();
        using var command = new NpgsqlCommand("""
            SELECT min(sequence_number), max(sequence_number), count(*), min(created), max(created)
            FROM journal WHERE persistence_id = 'exp/search' GROUP BY writer_uuid ORDER BY 1
            """, connection);
        using var reader = command.ExecuteReader();
        var writers = new List<Writer>();
        while (reader.Read())
            writers.Add(new(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), new(reader.GetInt64(3), TimeSpan.Zero), new(reader.GetInt64(4), TimeSpan.Zero)));
        return writers;
    }
}
