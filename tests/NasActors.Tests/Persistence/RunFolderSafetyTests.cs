using System.Diagnostics;
using System.Text.Json;
using NasActors.Persistence;
using NasActors.Search;
using NasActors.Search.Events;
using NasActors.Tests.Support;

namespace NasActors.Tests.Persistence;

/// <summary>
/// What a run folder must survive, tried with real nas processes: a second writer, damaged or
/// missing files, a read-only folder, option mistakes, an exec command that leaves processes
/// behind, a budget that grows after the end. Each ends in one clear line and nothing lost.
/// </summary>
public class RunFolderSafetyTests
{
    private static string[] Synthetic(string run, int children = 12) =>
        ["search", "--run", run, "--trainer", "synthetic", "--children", $"{children}", "--top-k", "2", "--strategy", "random", "--json"];

    private static Process StartSearch(string run, params string[] more)
    {
        var p = NasProcess.Start(["search", "--run", run, "--trainer", "synthetic:150", "--children", "200", "--top-k", "0", "--strategy", "random", .. more]);
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(90) && !(File.Exists(Path.Combine(run, "journal.db")) && new FolderRunStore(run).ReadEvents().OfType<ChildTrained>().Any()))
            Thread.Sleep(100);
        Assert.False(p.HasExited, "the first search ended before the test could use it");
        return p;
    }

    private static void Stop(Process p)
    {
        if (!p.HasExited) p.Kill();
        p.WaitForExit();
    }

    /// <summary>The pids of the processes whose command line holds <paramref name="pattern"/>, as pgrep prints them.</summary>
    private static string Processes(string pattern)
    {
        using var pgrep = Process.Start(new ProcessStartInfo("pgrep", ["-f", pattern]) { RedirectStandardOutput = true })!;
        var pids = pgrep.StandardOutput.ReadToEnd().Trim();
        pgrep.WaitForExit();
        return pids;
    }

    private static void AssertNoProcess(string pattern) => Assert.Equal("", Processes(pattern));

    /// <summary>Waits (up to a minute) until a process whose command line holds <paramref name="pattern"/> runs.</summary>
    private static void WaitForProcess(string pattern)
    {
        var clock = Stopwatch.StartNew();
        while (Processes(pattern) == "" && clock.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(100);
    }

    private static string OneLine(NasProcess.Result r)
    {
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got:\n{r.Stderr}");
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.DoesNotContain("System.", r.Stderr);
        return lines[0];
    }

    [Fact]
    public void A_second_writer_stops_at_once_naming_the_folder_and_the_holder_and_readers_still_read()
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        var first = StartSearch(run);
        try
        {
            // The lock is on the folder itself: deleting the file that names the holder changes nothing.
            var holder = File.ReadAllText(Path.Combine(run, "run.lock"));
            Assert.Contains($"pid {first.Id}", holder);
            File.Delete(Path.Combine(run, "run.lock"));
            var clock = Stopwatch.StartNew();
            var second = NasProcess.Run(["search", "--run", run, "--trainer", "synthetic:150", "--children", "200", "--top-k", "0", "--strategy", "random"]);
            Assert.Equal(2, second.ExitCode);
            var line = OneLine(second);
            Assert.Contains(run, line);
            Assert.Contains("a run has one writer", line);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"the second writer took {clock.Elapsed}");

            var status = NasProcess.Run("status", "--run", run, "--json");
            Assert.True(status.ExitCode == 0, status.Stderr);
            Assert.True(JsonDocument.Parse(status.Stdout).RootElement.GetProperty("completed").GetInt32() >= 1);
        }
        finally
        {
            Stop(first);
        }
        // SIGKILL leaves no stale lock: the run resumes at once.
        var resumed = NasProcess.Run(TimeSpan.FromMinutes(3), ["search", "--run", run, "--trainer", "synthetic:0", "--children", "200", "--top-k", "0", "--strategy", "random", "--json"]);
        Assert.Equal(2, resumed.ExitCode); // another trainer: refused as a settings change, not as a lock
        Assert.Contains("only the budget, the devices and the timeouts may change", resumed.Stderr);
    }

    [Fact]
    public async Task Two_searches_started_together_on_a_new_folder_leave_one_writer()
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        // Long enough (40 x 150 ms) that the two starts overlap even on a loaded machine.
        string[] args = ["search", "--run", run, "--trainer", "synthetic:150", "--children", "40", "--top-k", "1", "--strategy", "random", "--json"];
        var a = Task.Run(() => NasProcess.Run(TimeSpan.FromMinutes(3), args));
        var b = Task.Run(() => NasProcess.Run(TimeSpan.FromMinutes(3), args));
        var results = await Task.WhenAll(a, b);
        Assert.Equal([0, 2], results.Select(r => r.ExitCode).Order());
        Assert.Contains("a run has one writer", results.Single(r => r.ExitCode == 2).Stderr);
        var events = new FolderRunStore(run).ReadEvents();
        Assert.Equal(40, events.OfType<ChildTrained>().Count());
        Assert.Single(events.OfType<SearchStarted>());
    }

    public static TheoryData<string, string> Damages => new()
    {
        { "journal.db", "truncate" },
        { "journal.db", "overwrite" },
        { "snapshots.db", "truncate" },
    };

    [Theory]
    [MemberData(nameof(Damages))]
    public void A_damaged_database_file_is_named_in_one_line_by_every_command_within_seconds(string file, string damage)
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        Assert.Equal(0, NasProcess.Run(Synthetic(run)).ExitCode);
        var path = Path.Combine(run, file);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, damage == "truncate" ? bytes[..(bytes.Length / 3)] : Enumerable.Repeat((byte)'x', bytes.Length).ToArray());
        var runJson = File.ReadAllText(Path.Combine(run, "run.json"));

        var commands = file == "journal.db"
            ? new[] { new[] { "status", "--run", run }, ["top", "--run", run], ["failures", "--run", run], Synthetic(run, 20) }
            : [Synthetic(run, 20)];
        foreach (var args in commands)
        {
            var clock = Stopwatch.StartNew();
            var r = NasProcess.Run(TimeSpan.FromSeconds(60), args);
            Assert.True(r.ExitCode == 1, $"nas {args[0]}: exit {r.ExitCode}\n{r.Stderr}");
            Assert.Contains(file, OneLine(r));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"nas {args[0]} took {clock.Elapsed}");
        }
        Assert.Equal(runJson, File.ReadAllText(Path.Combine(run, "run.json")));
    }

    [Theory]
    [InlineData("UPDATE snapshot SET snapshot = X'7B225374617465223A317D' WHERE persistence_id = 'search'", "")] // {"State":1}
    // Well-formed, of the current shape, but no state can come from it.
    // (its children block cut to one byte: a child that ends after its id).
    [InlineData("UPDATE snapshot SET snapshot = CAST(substr(CAST(snapshot AS TEXT), 1, instr(CAST(snapshot AS TEXT), '\"Children\":\"') + 11) || 'AQ==' " +
                "|| substr(CAST(snapshot AS TEXT), instr(CAST(snapshot AS TEXT), '\"},\"StrategyState\"')) AS BLOB) WHERE persistence_id = 'search'",
        "the children block is damaged at byte 1 of 1")]
    public void An_unreadable_snapshot_entry_is_named_in_one_line_instead_of_a_coordinator_that_restarts_for_ever(string tamper, string why)
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        var config = dir.File("config.json", JsonSerializer.Serialize(new SearchSettings
        {
            Strategy = "random", Budget = 12, TopK = 1, Trainer = "synthetic", SnapshotEvery = 5,
        }, NasActors.Persistence.SettingsJson.Options));
        Assert.Equal(0, NasProcess.Run("search", "--run", run, "--config", config, "--json").ExitCode);
        Assert.NotNull(new FolderRunStore(run).LatestSnapshotSequenceNr());
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(run, "snapshots.db")};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = tamper;
            Assert.Equal(1, command.ExecuteNonQuery());
        }
        foreach (var args in new[] { ["status", "--run", run], new[] { "search", "--run", run, "--config", config, "--children", "20", "--json" } })
        {
            var r = NasProcess.Run(TimeSpan.FromSeconds(60), args);
            Assert.True(r.ExitCode == 1, $"nas {args[0]}: exit {r.ExitCode}\n{r.Stderr}");
            Assert.Contains("snapshots.db: entry", OneLine(r));
            Assert.Contains(why, OneLine(r));
        }
    }

    // Each damages the journal of a finished 12-child run, as a hand edit would.
    [Theory]
    // A child-trained entry appended again: counted, it would say 13 completed of 12.
    [InlineData("duplicate", "INSERT INTO journal (created, deleted, persistence_id, sequence_number, message, manifest, identifier, writer_uuid) " +
        "SELECT created, deleted, persistence_id, (SELECT MAX(sequence_number) FROM journal) + 1, message, manifest, identifier, writer_uuid FROM journal " +
        "WHERE manifest = 'event.child-trained' ORDER BY sequence_number DESC LIMIT 1",
        "(event.child-trained) contradicts the entries before it: child {0}'s search training already ended (trained)")]
    // A result for a child the run never sampled.
    [InlineData("no child", "INSERT INTO journal (created, deleted, persistence_id, sequence_number, message, manifest, identifier, writer_uuid) " +
        "SELECT created, deleted, persistence_id, (SELECT MAX(sequence_number) FROM journal) + 1, CAST(json_set(CAST(message AS TEXT), '$.ChildId', 999) AS BLOB), manifest, identifier, writer_uuid FROM journal " +
        "WHERE manifest = 'event.child-trained' ORDER BY sequence_number DESC LIMIT 1",
        "(event.child-trained) contradicts the entries before it: child 999 was never sampled")]
    // The first child's result moved before its assignment (the two entries swap places).
    [InlineData("before assignment", "UPDATE journal SET sequence_number = -sequence_number WHERE sequence_number IN ({1}, {2}); " +
        "UPDATE journal SET sequence_number = CASE sequence_number WHEN -{1} THEN {2} ELSE {1} END WHERE sequence_number < 0",
        "(event.child-trained) contradicts the entries before it: child {0}'s search training was never assigned to a worker")]
    // A payload stored as text rather than bytes.
    [InlineData("text payload", "UPDATE journal SET message = CAST(message AS TEXT) WHERE sequence_number = (SELECT MAX(sequence_number) FROM journal)",
        "holds its payload as text, not bytes")]
    public void A_damaged_journal_is_refused_naming_the_entry_and_nothing_is_written(string damage, string sql, string why)
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        Assert.Equal(0, NasProcess.Run(Synthetic(run)).ExitCode);
        var store = new FolderRunStore(run);
        var events = store.ReadStoredEvents();
        // The entries the damage names: the last trained child's, and the first child's assignment and result.
        var lastTrained = events.Last(e => e.Event is ChildTrained);
        var assigned = events.First(e => e.Event is ChildAssigned { Final: false });
        var trained = events.First(e => e.Event is ChildTrained t && t.ChildId == ((ChildAssigned)assigned.Event).ChildId);
        var child = damage == "before assignment" ? ((ChildTrained)trained.Event).ChildId : ((ChildTrained)lastTrained.Event).ChildId;
        Assert.Null(store.LatestSnapshotSequenceNr());
        var journal = Path.Combine(run, "journal.db");
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={journal};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = string.Format(System.Globalization.CultureInfo.InvariantCulture, sql, child, assigned.SequenceNr, trained.SequenceNr);
            Assert.True(command.ExecuteNonQuery() > 0);
        }
        var stored = File.ReadAllBytes(journal);
        var runJson = File.ReadAllText(Path.Combine(run, "run.json"));
        var expected = string.Format(System.Globalization.CultureInfo.InvariantCulture, why, child);
        foreach (var args in new[] { ["status", "--run", run], ["top", "--run", run], ["report", "--run", run, "--out", Path.Combine(dir.Path, "r.html")], Synthetic(run, 20) })
        {
            var r = NasProcess.Run(TimeSpan.FromSeconds(60), args);
            Assert.True(r.ExitCode == 1, $"nas {args[0]}: exit {r.ExitCode}\n{r.Stderr}");
            var line = OneLine(r);
            Assert.Contains("journal.db: entry ", line);
            Assert.Contains(expected, line);
        }
        Assert.Equal(stored, File.ReadAllBytes(journal));
        Assert.Equal(runJson, File.ReadAllText(Path.Combine(run, "run.json")));
        Assert.False(File.Exists(Path.Combine(dir.Path, "r.html")));
    }

    [Theory]
    [InlineData("delete")]
    [InlineData("empty")]
    public void A_lost_journal_is_refused_instead_of_starting_over(string loss)
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        Assert.Equal(0, NasProcess.Run(Synthetic(run)).ExitCode);
        var journal = Path.Combine(run, "journal.db");
        foreach (var f in Directory.GetFiles(run, "journal.db*")) File.Delete(f);
        if (loss == "empty") File.WriteAllBytes(journal, []);
        var runJson = File.ReadAllText(Path.Combine(run, "run.json"));

        var r = NasProcess.Run(Synthetic(run, 20));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("journal missing or empty", OneLine(r));
        Assert.Equal(runJson, File.ReadAllText(Path.Combine(run, "run.json")));
        Assert.Empty(new FolderRunStore(run).ReadEvents());
    }

    [Fact]
    public async Task After_a_clean_exit_the_database_files_alone_hold_the_whole_run_and_a_read_only_folder_is_readable()
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        Assert.Equal(0, NasProcess.Run(Synthetic(run)).ExitCode);
        Assert.All(Directory.GetFiles(run, "*.db-wal"), wal => Assert.Equal(0, new FileInfo(wal).Length));

        var copy = Path.Combine(dir.Path, "copy");
        Directory.CreateDirectory(copy);
        foreach (var name in new[] { "run.json", "journal.db", "snapshots.db" })
            File.Copy(Path.Combine(run, name), Path.Combine(copy, name));
        var original = NasProcess.Run("status", "--run", run, "--json").Stdout;
        var copied = NasProcess.Run("status", "--run", copy, "--json");
        Assert.True(copied.ExitCode == 0, copied.Stderr);
        Assert.Equal(JsonDocument.Parse(original).RootElement.GetProperty("completed").GetInt32(),
            JsonDocument.Parse(copied.Stdout).RootElement.GetProperty("completed").GetInt32());

        // The copy, mounted read-only (a private mount namespace: even root cannot write there).
        foreach (var f in Directory.GetFiles(copy, "*-shm").Concat(Directory.GetFiles(copy, "*-wal"))) File.Delete(f);
        var nas = $"dotnet {Path.Combine(AppContext.BaseDirectory, "nas.dll")}";
        var script = $"mount --bind {copy} {copy} && mount -o remount,ro,bind {copy} && touch {copy}/probe 2>/dev/null && exit 99; " +
                     $"{nas} status --run {copy} --json && {nas} top --run {copy} --json && {nas} failures --run {copy} --json";
        var psi = new ProcessStartInfo("unshare", ["-m", "sh", "-c", script]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"exit {p.ExitCode}: {stderr}");
        Assert.Contains("\"completed\":12", await stdout);
    }

    [Fact]
    public void A_run_json_edited_after_the_start_is_refused_because_the_journal_says_otherwise()
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        Assert.Equal(0, NasProcess.Run(Synthetic(run)).ExitCode);
        var file = Path.Combine(run, "run.json");
        File.WriteAllText(file, File.ReadAllText(file).Replace("\"trainer\": \"synthetic\"", "\"trainer\": \"exec:echo '{\\\"accuracy\\\": 1}'\""));
        var edited = File.ReadAllText(file);
        Assert.Contains("exec:", edited);
        var r = NasProcess.Run(["search", "--run", run, "--children", "20", "--json"]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("its journal disagrees with " + Path.Combine(run, "run.json"), OneLine(r));
        Assert.Contains("(trainer", r.Stderr);
        Assert.Equal(edited, File.ReadAllText(file));
    }

    public static TheoryData<string, string> BadConfigs => new()
    {
        { "{\"budget\": \"x\"}", "$.budget: expected a whole number" },
        { "{\"foo\": 1}", "unknown key $.foo" },
        { "[]", "$: expected an object" },
        { "{\"search\": {\"epochs\": -1}}", "search epochs must be at least 1, got -1" },
        { "{\"search\": {\"epoch\": 3}}", "unknown key $.search.epoch" },
        { "{\"search\": {\"cells\": [1, 2]}}", "$.search.cells: give one number N or 3 numbers (one per stage), got 2" },
        { "garbage", "$: 'g' is an invalid start of a value" },
        { "{\"workers_per_device\": -2}", "workers per device must be at least 1, got -2" },
        { "{\"search\": {\"epochs\": 9}, \"early_stop\": {\"kind\": \"asha\", \"brackets\": 5}}", "bracket 4 has no rung below 9 epochs" },
        { "{\"early_stop\": {\"grace\": 1}}", "unknown key $.early_stop.grace" },
        { "{\"early_stop\": {\"kind\": \"asha\", \"stopped_children\": \"best\"}}", "early stopping's stopped_children must be rung-accuracy or ignore, got \"best\"" },
        { "{\"ppo_epochs\": 0}", "PPO epochs must be at least 1, got 0" },
    };

    [Theory]
    [MemberData(nameof(BadConfigs))]
    public void A_bad_settings_file_is_named_with_its_key_and_no_dotnet_type(string content, string message)
    {
        using var dir = new TempDir();
        var config = dir.File("config.json", content);
        var r = NasProcess.Run("search", "--run", Path.Combine(dir.Path, "run"), "--config", config);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains($"config.json: {message}", OneLine(r));
    }

    public static TheoryData<string[], string> BadOptions => new()
    {
        { ["--strategy", "foo"], "--strategy: 'foo' is not one of ppo, random, evolution" },
        { ["--seed", "abc"], "--seed: 'abc' is not a whole number" },
        { ["--children", "many"], "--children: 'many' is not a whole number" },
        { ["--devices", "gpu"], "--devices: unknown device \"gpu\"" },
        { ["--devices", "cuda:7"], "--devices: device cuda:7" },
        { ["--trainer", "torch", "--dataset", "cifar10:/nonexistent"], "--dataset: /nonexistent: no such folder for dataset cifar10" },
        { ["--trainer", "torch", "--dataset", "none"], "--dataset: unknown dataset \"none\" (expected fashion-mnist[:DIR]" },
        { ["--trainer", "synthetic", "--dataset", "cifar10:/nonexistent"], "--dataset: the synthetic trainer reads no dataset" },
        { ["--trainer", "gpu-trainer"], "unknown trainer \"gpu-trainer\"" },
        { ["--child-timeout", "0"], "--child-timeout: must be at least 1 second" },
        { ["--config", ""], "--config: give a settings file" },
        { ["--precision", "fp8"], "--precision: 'fp8' is not one of fp32, bf16, fp16" },
        { ["--precision", "fp16"], "search precision fp16 needs CUDA devices, not cpu (use bf16 on CPUs)" },
        { ["--early-stop", "hyperband"], "--early-stop: must be asha, got \"hyperband\"" },
        { ["--grace-epochs", "2"], "--grace-epochs: needs --early-stop asha (or early_stop in the settings file)" },
        { ["--early-stop", "asha", "--grace-epochs", "2"], "early stopping's grace epochs (2) must be below the children's epochs (2)" },
        { ["--early-stop", "asha", "--reduction-factor", "1"], "early stopping's reduction factor must be at least 2, got 1" },
        { ["--trainer", "synthetic-curves:fast"], "trainer \"synthetic-curves:fast\": expected synthetic-curves[:MS[:RHO]]" },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void A_bad_option_exits_2_with_one_line_naming_it_and_stores_nothing(string[] option, string message)
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        var r = NasProcess.Run(["search", "--run", run, .. option]);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith($"nas: error: {message}", OneLine(r));
        Assert.False(File.Exists(Path.Combine(run, "run.json")));
    }

    [Fact]
    public void An_exec_command_that_leaves_a_process_behind_is_recorded_when_it_exits_and_its_group_is_killed()
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        // A marker argument finds the background sleep among all processes.
        var marker = $"{Random.Shared.Next(100_000, 999_999)}.5";
        var clock = Stopwatch.StartNew();
        var r = NasProcess.Run(["search", "--run", run, "--children", "2", "--top-k", "0", "--strategy", "random", "--json",
            "--trainer", $"exec:sleep {marker} & echo '{{\"accuracy\": 0.5}}'"]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"the search took {clock.Elapsed}");
        Assert.All(new FolderRunStore(run).ReadEvents().OfType<ChildTrained>(), t => Assert.Equal(0.5, t.Accuracy));
        Assert.Equal(2, new FolderRunStore(run).ReadEvents().OfType<ChildTrained>().Count());
        AssertNoProcess($"^sleep {marker}");
    }

    [Fact]
    public void A_child_timeout_fails_the_child_and_kills_its_processes()
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        var marker = $"{Random.Shared.Next(100_000, 999_999)}.25";
        var r = NasProcess.Run(["search", "--run", run, "--children", "1", "--top-k", "0", "--strategy", "random", "--json", "--child-timeout", "2",
            "--trainer", $"exec:sleep {marker} & sleep {marker}; echo '{{\"accuracy\": 0.5}}'"]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("timed out after 2 s", Assert.Single(new FolderRunStore(run).ReadEvents().OfType<ChildFailed>()).Reason);
        AssertNoProcess($"^sleep {marker}");
    }

    [Fact]
    public void Stopping_a_search_kills_the_exec_commands_it_started()
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        var marker = $"{Random.Shared.Next(100_000, 999_999)}.75";
        using var p = NasProcess.Start("search", "--run", run, "--children", "2", "--top-k", "0", "--strategy", "random",
            "--trainer", $"exec:sleep {marker}; echo '{{\"accuracy\": 0.5}}'");
        WaitForProcess($"^sleep {marker}");
        Process.Start("kill", ["-TERM", $"{p.Id}"])!.WaitForExit();
        Assert.True(p.WaitForExit(TimeSpan.FromSeconds(60)), "nas did not stop after SIGTERM");
        Assert.Equal(130, p.ExitCode);
        AssertNoProcess($"^sleep {marker}");
    }

    [Fact]
    public void Exec_commands_left_by_a_killed_search_are_killed_when_exec_trainers_start_again()
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        var marker = $"{Random.Shared.Next(100_000, 999_999)}.125";
        var first = Path.Combine(dir.Path, "first");
        // The first attempt hangs in a sleep; the retry after the resume answers at once.
        string[] args = ["search", "--run", run, "--children", "1", "--top-k", "0", "--strategy", "random", "--json",
            "--trainer", $"exec:if [ -e {first} ]; then echo '{{\"accuracy\": 0.5}}'; else touch {first}; sleep {marker}; fi"];
        using (var p = NasProcess.Start(args))
        {
            WaitForProcess($"^sleep {marker}");
            p.Kill();
            p.WaitForExit();
        }
        Assert.NotEqual("", Processes($"^sleep {marker}")); // SIGKILL gave nas no chance to stop it
        var resumed = NasProcess.Run(args);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        AssertNoProcess($"^sleep {marker}");
    }

    [Fact]
    public void Growing_a_finished_run_retrains_its_new_top_K_and_nothing_twice()
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        Assert.Equal(0, NasProcess.Run(["search", "--run", run, "--trainer", "synthetic", "--children", "20", "--top-k", "2", "--strategy", "random", "--json"]).ExitCode);
        var r = NasProcess.Run(["search", "--run", run, "--children", "400", "--json"]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.True(JsonDocument.Parse(r.Stdout).RootElement.GetProperty("finished").GetBoolean());

        var events = new FolderRunStore(run).ReadEvents();
        var retrained = events.OfType<FinalTrainingCompleted>().Select(e => e.ChildId).ToList();
        Assert.Equal(retrained.Distinct().Count(), retrained.Count);
        var top = JsonDocument.Parse(NasProcess.Run("top", "--run", run, "-k", "2", "--json").Stdout).RootElement;
        Assert.All(top.EnumerateArray(), e => Assert.Equal(JsonValueKind.Number, e.GetProperty("final_accuracy").ValueKind));
        Assert.Equal(2, events.OfType<FinalTrainingQueued>().Count());
    }

    [Fact]
    public void Failure_reasons_are_listed_and_summarised()
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        var r = NasProcess.Run(["search", "--run", run, "--children", "3", "--top-k", "1", "--strategy", "random", "--json",
            "--trainer", "exec:echo 'CUDA out of memory' >&2; exit 3"]);
        Assert.True(r.ExitCode == 0, r.Stderr);

        var failures = JsonDocument.Parse(NasProcess.Run("failures", "--run", run, "--json").Stdout).RootElement;
        Assert.Equal([0L, 1, 2], failures.EnumerateArray().Select(f => f.GetProperty("child_id").GetInt64()));
        Assert.All(failures.EnumerateArray(), f =>
        {
            Assert.Equal(1, f.GetProperty("attempts").GetInt32());
            Assert.Contains(Environment.MachineName, f.GetProperty("worker").GetString());
            Assert.Contains("CUDA out of memory", f.GetProperty("reason").GetString());
        });
        var status = JsonDocument.Parse(NasProcess.Run("status", "--run", run, "--json").Stdout).RootElement;
        Assert.Equal("exited with code 3 (3x)", status.GetProperty("commonest_failure").GetString());
        var top = NasProcess.Run("top", "--run", run);
        Assert.Contains($"no child trained: 3 failed; ./nas failures --run {run} says why", top.Stdout);
    }

    [Fact]
    public void Resuming_a_finished_run_whose_snapshot_holds_an_empty_final_list_returns_at_once()
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        var config = dir.File("config.json", JsonSerializer.Serialize(new SearchSettings
        {
            Strategy = "random", Budget = 4, TopK = 1, Trainer = "exec:exit 1", SnapshotEvery = 1,
        }, NasActors.Persistence.SettingsJson.Options));
        var first = NasProcess.Run("search", "--run", run, "--config", config, "--json");
        Assert.True(first.ExitCode == 0, first.Stderr);
        var again = NasProcess.Run(TimeSpan.FromSeconds(60), "search", "--run", run, "--config", config, "--json");
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.True(JsonDocument.Parse(again.Stdout).RootElement.GetProperty("finished").GetBoolean());
        Assert.DoesNotContain("failed to find", File.ReadAllText(Path.Combine(run, "node.log")));
    }
}
