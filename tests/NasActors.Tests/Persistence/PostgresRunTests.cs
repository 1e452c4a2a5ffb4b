using System.Diagnostics;
using System.Text.Json;
using NasActors.Persistence;
using NasActors.Search.Events;
using NasActors.Tests.Support;
using Npgsql;
using Xunit.Abstractions;
using static NasActors.Tests.Support.ClusterProcesses;

namespace NasActors.Tests.Persistence;

/// <summary>Runs in a shared PostgreSQL database (a real server): written, resumed, read, guarded, and surviving a server restart.</summary>
[Collection("postgres")]
public sealed class PostgresRunTests(PostgresServer postgres, ITestOutputHelper output)
{
    [Fact]
    public void Runs_in_one_database_are_written_resumed_and_read_by_every_command_under_their_own_ids()
    {
        var db = postgres.NewDatabase();
        string[] Search(string run, int children, params string[] more) =>
            ["search", "--journal", db, "--run", run, "--trainer", "synthetic:20", "--children", $"{children}", "--top-k", "1", "--strategy", "random", "--seed", "3", "--json", .. more];

        var first = NasProcess.Run(Search("exp1", 8));
        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.Equal(8, JsonDocument.Parse(first.Stdout).RootElement.GetProperty("completed").GetInt32());
        var other = NasProcess.Run(Search("exp2", 5));
        Assert.True(other.ExitCode == 0, other.Stderr);

        // A grown budget resumes the run where it stopped (on other devices too); other settings are refused.
        // Time limits are the hardware's: they may change too, and the resumed coordinator journals them.
        var resumed = NasProcess.Run(Search("exp1", 12, "--workers-per-device", "2", "--child-timeout", "100"));
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Equal(12, JsonDocument.Parse(resumed.Stdout).RootElement.GetProperty("completed").GetInt32());
        var changed = NasProcess.Run(Search("exp1", 12, "--epochs", "5"));
        Assert.Equal(2, changed.ExitCode);
        Assert.Contains($"cannot resume run exp1 in {db}", changed.Stderr);
        Assert.Contains("(search.epochs)", changed.Stderr);

        var events = new DatabaseRunStore(PostgresUrl.Parse(db), "exp1").ReadStoredEvents().Select(e => e.Event).ToList();
        Assert.Equal(12, events.OfType<ChildTrained>().Select(t => t.ChildId).Distinct().Count());
        Assert.Single(events.OfType<SearchStarted>());
        Assert.Equal(100, Assert.Single(events.OfType<TimeoutsChanged>()).SearchSeconds);

        // Each run's persistence ids carry its name.
        Assert.Equal(["exp1/search", "exp2/search"], Ids(db, "journal"));
        Assert.Equal(["exp1/evaluator", "exp2/evaluator"], Ids(db, "snapshot").Where(id => id.EndsWith("/evaluator", StringComparison.Ordinal)));
        Assert.All(Ids(db, "snapshot"), id => Assert.Matches("^exp[12]/", id));

        var status = NasProcess.Run("status", "--journal", db, "--run", "exp1", "--json");
        Assert.True(status.ExitCode == 0, status.Stderr);
        Assert.Equal(12, JsonDocument.Parse(status.Stdout).RootElement.GetProperty("completed").GetInt32());
        Assert.True(JsonDocument.Parse(status.Stdout).RootElement.GetProperty("finished").GetBoolean());
        var top = NasProcess.Run("top", "--journal", db, "--run", "exp2", "--json");
        Assert.Equal(5, JsonDocument.Parse(top.Stdout).RootElement.GetArrayLength());
        var workers = NasProcess.Run("workers", "--journal", db, "--run", "exp1", "--json");
        var rows = JsonDocument.Parse(workers.Stdout).RootElement.EnumerateArray().ToList();
        Assert.Equal(12, rows.Sum(w => w.GetProperty("trained").GetInt32()));
        Assert.Equal(1, rows.Sum(w => w.GetProperty("final").GetInt32()));
        using var dir = new TempDir();
        var genotype = NasProcess.Run("export", "--journal", db, "--run", "exp1", "--rank", "1", "--out", Path.Combine(dir.Path, "best.json"));
        Assert.True(genotype.ExitCode == 0, genotype.Stderr);
        var report = NasProcess.Run("report", "--journal", db, "--run", "exp1", "--run", "exp2", "--out", Path.Combine(dir.Path, "r.html"));
        Assert.True(report.ExitCode == 0, report.Stderr);
        Assert.Contains("exp1 (12 children), exp2 (5 children)", report.Stdout);
    }

    private static string[] Ids(string db, string table)
    {
        using var connection = new NpgsqlConnection(PostgresUrl.Parse(db).Unpooled);
        connection.Open();
        using var command = new NpgsqlCommand($"SELECT DISTINCT persistence_id FROM {table} ORDER BY 1", connection);
        using var reader = command.ExecuteReader();
        var ids = new List<string>();
        while (reader.Read()) ids.Add(reader.GetString(0));
        return [.. ids];
    }

    [Theory]
    [InlineData("mysql://nas@db/nas", "exp", "--journal: 'mysql://nas@db/nas' is not a PostgreSQL URL")]
    [InlineData("postgresql://nas:secret@db/nas", "exp", "--journal: no password in the URL")]
    [InlineData("postgresql://db/nas", "exp", "names no user")]
    [InlineData("postgresql://nas@db", "exp", "names no database")]
    [InlineData("postgresql://nas@127.0.0.1:1/nas", "runs/exp", "--run: with a database, give the run's name")]
    [InlineData("postgresql://nas@127.0.0.1:0/nas", "exp", "has port 0")]
    [InlineData("postgresql://nas@127.0.0.1/nas#x", "exp", "has parts after the database")]
    [InlineData("postgresql://nas@127.0.0.1/nas%00", "exp", "holds control characters")]
    public void Bad_journal_options_are_one_line(string journal, string run, string message)
    {
        foreach (var r in new[] { NasProcess.Run("search", "--journal", journal, "--run", run, "--trainer", "synthetic:1"), NasProcess.Run("status", "--journal", journal, "--run", run) })
        {
            Assert.Equal(2, r.ExitCode);
            Assert.Contains(message, r.Stderr);
            Assert.Single(r.Stderr.Trim().Split('\n'));
        }
    }

    [Fact]
    public void A_server_that_is_not_there_a_database_that_does_not_exist_and_a_run_that_does_not_exist_are_one_line_each()
    {
        var down = NasProcess.Run("search", "--journal", $"postgresql://nas@127.0.0.1:{FreePort()}/nas", "--run", "exp", "--trainer", "synthetic:1");
        Assert.Equal(1, down.ExitCode);
        Assert.Contains("cannot reach PostgreSQL at postgresql://nas@127.0.0.1:", down.Stderr);
        var noDatabase = NasProcess.Run("status", "--journal", $"postgresql://nas@127.0.0.1:{postgres.Port}/nosuch", "--run", "exp");
        Assert.Contains("database \"nosuch\" does not exist", noDatabase.Stderr);
        var db = postgres.NewDatabase();
        var noRun = NasProcess.Run("status", "--journal", db, "--run", "exp");
        Assert.Contains($"run exp in {db} does not exist", noRun.Stderr);
        var noStandby = NasProcess.Run("node", "--join", "127.0.0.1:1", "--roles", "coordinator,evaluator", "--journal", db, "--run", "exp");
        Assert.Equal(2, noStandby.ExitCode);
        Assert.Contains($"run exp in {db} does not exist; start it with nas search", noStandby.Stderr);
        foreach (var r in new[] { down, noDatabase, noRun, noStandby })
            Assert.Single(r.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public void A_database_whose_tables_belong_to_another_program_is_refused_before_anything_is_written()
    {
        var db = PostgresUrl.Parse(postgres.NewDatabase());
        using (var connection = new NpgsqlConnection(db.Unpooled))
        {
            connection.Open();
            using var create = new NpgsqlCommand("CREATE TABLE journal (x int)", connection);
            create.ExecuteNonQuery();
        }
        var r = NasProcess.Run("search", "--journal", db.ToString(), "--run", "exp", "--trainer", "synthetic:1", "--children", "2");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("its table journal is not nas's (no column ordering); give nas a database of its own", r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.Equal(["journal"], Tables(db));
    }

    [Fact]
    public async Task Of_two_searches_started_together_on_a_new_run_one_runs_and_the_other_is_refused()
    {
        var db = postgres.NewDatabase();
        string[] args = ["search", "--journal", db, "--run", "exp", "--trainer", "synthetic:50", "--children", "6", "--strategy", "random", "--top-k", "0"];
        var both = await Task.WhenAll(Task.Run(() => NasProcess.Run(args)), Task.Run(() => NasProcess.Run(args)));
        Assert.True(both.Select(r => r.ExitCode).Order().SequenceEqual([0, 2]), string.Join(" | ", both.Select(r => $"{r.ExitCode}: {r.Stderr.Trim().Split('\n')[^1]}")));
        Assert.Contains($"run exp in {db} is in use by another nas process", both.Single(r => r.ExitCode == 2).Stderr);
        Assert.Equal(6, new DatabaseRunStore(PostgresUrl.Parse(db), "exp").Read().State.Trained);
    }

    [Fact]
    public async Task A_standby_for_another_run_than_its_cluster_serves_is_refused_in_one_line()
    {
        var db = postgres.NewDatabase();
        var other = NasProcess.Run("search", "--journal", db, "--run", "other", "--trainer", "synthetic:1", "--children", "1", "--top-k", "0");
        Assert.True(other.ExitCode == 0, other.Stderr);
        var port = FreePort();
        using var search = Start(SeedSearch($"127.0.0.1:{port}", "--journal", db, "--run", "exp", "--children", "5", "--strategy", "random", "--json"));
        try
        {
            await WaitFor(() => new DatabaseRunStore(PostgresUrl.Parse(db), "exp").Read().State, s => s.Settings is not null, TimeSpan.FromSeconds(60));
            var standby = NasProcess.Run("node", "--roles", "coordinator,evaluator", "--journal", db, "--run", "other", "--join", $"127.0.0.1:{port}");
            Assert.Equal(2, standby.ExitCode);
            Assert.Contains("--run: the cluster joined serves another run (exp/search)", standby.Stderr);
            Assert.Single(standby.Stderr.Trim().Split('\n'), l => l.StartsWith("nas: error", StringComparison.Ordinal));
            Assert.False(search.HasExited);
        }
        finally
        {
            search.Kill();
            search.WaitForExit();
        }
    }

    private static string[] Tables(PostgresUrl db)
    {
        using var connection = new NpgsqlConnection(db.Unpooled);
        connection.Open();
        using var command = new NpgsqlCommand("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1", connection);
        using var reader = command.ExecuteReader();
        var tables = new List<string>();
        while (reader.Read()) tables.Add(reader.GetString(0));
        return [.. tables];
    }

    [Fact]
    public async Task A_second_search_on_a_run_that_a_live_search_writes_is_refused_in_one_line()
    {
        var db = postgres.NewDatabase();
        using var first = Start("search", "--journal", db, "--run", "exp", "--trainer", "synthetic:300", "--children", "40", "--strategy", "random", "--json");
        try
        {
            await WaitFor(() => new DatabaseRunStore(PostgresUrl.Parse(db), "exp").Read().State, s => s.Trained >= 1, TimeSpan.FromSeconds(60));
            var second = NasProcess.Run("search", "--journal", db, "--run", "exp", "--trainer", "synthetic:300", "--children", "40", "--strategy", "random");
            Assert.Equal(2, second.ExitCode);
            Assert.Contains($"run exp in {db} is in use by another nas process (pid {first.Id} on {Environment.MachineName}", second.Stderr);
            Assert.Single(second.Stderr.Trim().Split('\n'));
        }
        finally
        {
            first.Kill();
            first.WaitForExit();
        }
    }

    [Fact]
    public async Task A_PostgreSQL_restart_mid_search_loses_nothing_and_counts_nothing_twice()
    {
        const int budget = 30;
        var db = postgres.NewDatabase();
        var url = PostgresUrl.Parse(db);
        using var search = Start("search", "--journal", db, "--run", "exp", "--trainer", "synthetic:250", "--workers-per-device", "2",
            "--children", $"{budget}", "--top-k", "1", "--strategy", "random", "--json");
        var stdout = search.StandardOutput.ReadToEndAsync();
        var stderr = search.StandardError.ReadToEndAsync();
        try
        {
            await WaitFor(() => new DatabaseRunStore(url, "exp").Read().State, s => s.Trained >= 8, TimeSpan.FromSeconds(90));
            postgres.Stop();
            var stopped = Stopwatch.StartNew();
            await Task.Delay(TimeSpan.FromSeconds(4));
            postgres.Start();
            output.WriteLine($"PostgreSQL was down for {stopped.Elapsed.TotalSeconds:F1} s");

            Assert.True(search.WaitForExit(TimeSpan.FromMinutes(2)), "the search did not finish after PostgreSQL came back");
            Assert.True(search.ExitCode == 0, await stderr);
            Assert.Equal(budget, JsonDocument.Parse(await stdout).RootElement.GetProperty("completed").GetInt32());
            var events = new DatabaseRunStore(url, "exp").ReadStoredEvents().Select(e => e.Event).ToList();
            JournalAssert.EachTrainedOnce(events, budget);

            // The outage in nas's words (what happened, what follows), not Akka's.
            var log = await stderr;
            output.WriteLine(log);
            Assert.DoesNotContain("Failed to persist event type", log);
            Assert.DoesNotContain("Last known sequence number", log);
            Assert.Contains("lost the run's writer lease (database connection lost)", log);
            Assert.Equal(budget, events.OfType<ChildSampled>().Count());
        }
        finally
        {
            if (!search.HasExited) search.Kill();
        }
    }
}
