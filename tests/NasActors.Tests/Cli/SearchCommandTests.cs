using System.Text.Json;
using NasActors.Persistence;
using NasActors.Search.Events;
using NasActors.Tests.Support;

namespace NasActors.Tests.Cli;

public class SearchCommandTests
{
    private static string[] Search(string run, params string[] more) =>
        ["search", "--run", run, "--children", "6", "--top-k", "1", "--strategy", "random", "--json", .. more];

    private static Task<IReadOnlyList<ISearchEvent>> Events(string run) => Task.FromResult(new FolderRunStore(run).ReadEvents());

    [Fact]
    public async Task An_exec_trainer_gets_the_genotype_and_its_environment_and_its_last_line_is_the_result()
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        // The reward is 0.1 + child id / 100: it can only be right if NAS_CHILD_ID arrived; the script
        // also checks that stdin and NAS_GENOTYPE_FILE hold the same genotype.
        var script = dir.File("train.sh", """
            set -e
            stdin="$(cat)"
            [ "$stdin" = "$(cat "$NAS_GENOTYPE_FILE")" ] || { echo "stdin and file differ" >&2; exit 9; }
            echo "$stdin" | grep -q '"normal"'
            [ "$NAS_DEVICE" = "cpu" ] && [ -n "$NAS_SEED" ]
            # The dataset is the command's own business: nas passes it as given.
            [ "$NAS_DATASET" = "none" ] || { echo "NAS_DATASET is $NAS_DATASET" >&2; exit 8; }
            echo '{"epoch": 1, "epochs": 1, "val_accuracy": 0.1}'
            echo "{\"accuracy\": 0.$((10 + NAS_CHILD_ID)), \"loss\": 1.5, \"params\": 1234}"
            """);
        var r = NasProcess.Run(Search(run, "--trainer", $"exec:sh {script}", "--dataset", "none"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        var trained = (await Events(run)).OfType<ChildTrained>().ToList();
        Assert.Equal(6, trained.Count);
        Assert.All(trained, t => Assert.Equal(0.10 + t.ChildId / 100.0, t.Accuracy, 9));
        Assert.All(trained, t => Assert.Equal(1234, t.Parameters));
        Assert.Single((await Events(run)).OfType<FinalTrainingCompleted>());

        var top = NasProcess.Run("top", "--run", run, "-k", "2", "--json");
        using var doc = JsonDocument.Parse(top.Stdout);
        Assert.Equal(0.15, doc.RootElement[0].GetProperty("accuracy").GetDouble(), 9);
        Assert.Equal(5, doc.RootElement[0].GetProperty("child_id").GetInt64());
        var export = NasProcess.Run("export", "--run", run, "--rank", "1");
        Assert.Equal(0, NasProcess.Run("validate", dir.File("best.json", export.Stdout)).ExitCode);
    }

    [Theory]
    [InlineData("ppo")]
    [InlineData("evolution")]
    public async Task A_search_of_the_darts_space_samples_only_darts_cells_and_keeps_its_space_on_resume(string strategy)
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        var r = NasProcess.Run("search", "--run", run, "--space", "darts", "--strategy", strategy, "--children", "24", "--top-k", "1",
            "--trainer", "synthetic", "--workers-per-device", "2", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var sampled = (await Events(run)).OfType<ChildSampled>().ToList();
        Assert.Equal(24, sampled.Count);
        Assert.All(sampled, s =>
        {
            Assert.Equal(4, s.Genotype.Normal.Blocks.Count);
            Assert.Empty(NasActors.SearchSpace.SearchSpaces.Darts.Errors(s.Genotype));
            Assert.Equal([2, 3, 4, 5], s.Genotype.Reduction.Output);
        });
        using (var stored = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "run.json"))))
            Assert.Equal(("darts", 4), (stored.RootElement.GetProperty("space").GetString(), stored.RootElement.GetProperty("blocks").GetInt32()));
        var best = dir.File("best.json", NasProcess.Run("export", "--run", run, "--rank", "1").Stdout);
        var valid = NasProcess.Run("validate", best, "--space", "darts");
        Assert.True(valid.ExitCode == 0, valid.Stderr);
        Assert.Contains("in the darts space", valid.Stdout);

        var other = NasProcess.Run("search", "--run", run, "--space", "nasnet", "--children", "30");
        Assert.Equal(2, other.ExitCode);
        Assert.Contains("other settings (space", other.Stderr);
        Assert.Equal(24, (await Events(run)).OfType<ChildSampled>().Count());
    }

    [Fact]
    public async Task Per_stage_cell_counts_in_a_settings_file_reach_the_trainer_and_stay_in_the_stored_settings()
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        var defaults = new NasActors.Search.SearchSettings();
        var config = dir.File("config.json", JsonSerializer.Serialize(defaults with
        {
            Strategy = "random", Budget = 2, TopK = 0, Trainer = "exec:sh -c 'echo \"{\\\"accuracy\\\": 0.$(echo $NAS_CELLS | tr -d ,)}\"'",
            Search = defaults.Search with { Cells = new NasActors.SearchSpace.CellCounts(3, 2, 1) },
        }, SettingsJson.Options));
        var r = NasProcess.Run("search", "--run", run, "--config", config, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        // The trainer saw NAS_CELLS=3,2,1 (its accuracy echoes 321); the sizes are measured on the same 3,2,1 network, whatever a trainer says.
        Assert.All((await Events(run)).OfType<ChildTrained>(), t => Assert.Equal(0.321, t.Accuracy));
        Assert.All((await Events(run)).OfType<ChildTrained>(), t => Assert.InRange(t.Parameters, 1000, 10_000_000));
        using var stored = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "run.json")));
        Assert.Equal([3, 2, 1], stored.RootElement.GetProperty("search").GetProperty("cells").EnumerateArray().Select(c => c.GetInt32()));
        Assert.Equal(JsonValueKind.Number, stored.RootElement.GetProperty("final").GetProperty("cells").ValueKind);
    }

    [Fact]
    public async Task Sizing_options_over_a_settings_file_reach_search_and_final_children_and_a_resume_may_not_change_them()
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        // The trainer echoes what it was given as its accuracy's digits are not enough: it writes its environment to a file per child.
        var script = dir.File("train.sh", """
            cat > /dev/null
            echo "$NAS_FINAL $NAS_CELLS $NAS_FILTERS $NAS_EPOCHS $NAS_BATCH $NAS_LR $NAS_TRAIN_LIMIT $NAS_VALIDATION $NAS_DROP_PATH_KEEP" > "$(dirname "$0")/seen-$NAS_FINAL-$NAS_CHILD_ID"
            echo '{"accuracy": 0.5}'
            """);
        var config = dir.File("config.json", """{"search": {"filters": 12, "epochs": 9, "batch_size": 48}, "final": {"epochs": 7, "timeout_seconds": 50000}}""");
        var r = NasProcess.Run(Search(run, "--config", config, "--trainer", $"exec:sh {script}", "--dataset", "none",
            "--cells", "2,1,1", "--epochs", "3", "--batch", "16", "--lr", "0.025", "--train-limit", "300", "--validation", "200", "--drop-path-keep", "0.9",
            "--final-cells", "4", "--final-filters", "20", "--final-train-limit", "all", "--child-timeout", "900"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        var seen = Directory.GetFiles(dir.Path, "seen-*").ToDictionary(f => Path.GetFileName(f), f => File.ReadAllText(f).Trim());
        // Options win over the file; the file's keys the options leave alone (search filters 12, final epochs 7) stay.
        Assert.Equal("0 2,1,1 12 3 16 0.025 300 200 0.9", seen["seen-0-0"]);
        Assert.Equal("0 2,1,1 12 3 16 0.025 300 200 0.9", seen["seen-0-1"]);
        var final = Assert.Single(seen, s => s.Key.StartsWith("seen-1-", StringComparison.Ordinal)).Value;
        var defaults = new NasActors.Search.SearchSettings().Final;
        Assert.Equal($"1 4 20 7 {defaults.BatchSize} {defaults.LearningRate} all {defaults.ValidationSize} {defaults.DropPathKeep}", final);
        var stored = SettingsJson.Parse(File.ReadAllText(Path.Combine(run, "run.json")), "run.json");
        Assert.Null(stored.Final.TrainLimit);
        // --child-timeout is the search children's alone: the file's final time limit stays.
        Assert.Equal((900, 50000), (stored.Search.TimeoutSeconds, stored.Final.TimeoutSeconds));

        // A resume may grow the budget, not resize the children: the keys that differ are named.
        var resized = NasProcess.Run(["search", "--run", run, "--children", "7", "--top-k", "1", "--strategy", "random", "--json", "--trainer", $"exec:sh {script}", "--dataset", "none", "--epochs", "4", "--final-filters", "24"]);
        Assert.Equal(2, resized.ExitCode);
        Assert.Contains("cannot resume", resized.Stderr);
        Assert.Contains("search.epochs, final.filters", resized.Stderr);
        Assert.Equal(6, (await Events(run)).OfType<ChildTrained>().Count());

        // Other time limits (a slower machine) may come with a resume: journaled, stored, sent with the jobs from then on.
        var longer = NasProcess.Run(["search", "--run", run, "--children", "7", "--top-k", "1", "--strategy", "random", "--json", "--trainer", $"exec:sh {script}", "--dataset", "none",
            "--child-timeout", "7200", "--final-timeout", "90000"]);
        Assert.True(longer.ExitCode == 0, longer.Stderr);
        Assert.Equal(new TimeoutsChanged(7200, 90000), Assert.Single((await Events(run)).OfType<TimeoutsChanged>()));
        var restored = SettingsJson.Parse(File.ReadAllText(Path.Combine(run, "run.json")), "run.json");
        Assert.Equal((7200, 90000, 7), (restored.Search.TimeoutSeconds, restored.Final.TimeoutSeconds, restored.Budget));
        Assert.Equal(7, (await Events(run)).OfType<ChildTrained>().Count());

        foreach (var (args, message) in new[]
        {
            (new[] { "--train-limit", "some" }, "--train-limit: must be a number of images (at least 1) or all, got \"some\""),
            (new[] { "--final-cells", "1,2" }, "--final-cells: give one number N or 3 numbers"),
            (new[] { "--batch", "0" }, "search.batch_size must be at least 1, got 0"),
            (new[] { "--final-lr", "-1" }, "final.learning_rate must be positive"),
            // A comma is no decimal point (nor a thousands separator: 0,05 once read as 5).
            (new[] { "--lr", "0,05" }, "--lr: must be a number such as 0.05, got \"0,05\""),
            (new[] { "--child-timeout", "5000000" }, "search.timeout_seconds must be between 1 and 2592000 (30 days), got 5000000"),
        })
        {
            var bad = NasProcess.Run(Search(Path.Combine(dir.Path, "bad"), args));
            Assert.Equal(2, bad.ExitCode);
            Assert.Contains(message, bad.Stderr);
            Assert.False(Directory.Exists(Path.Combine(dir.Path, "bad", "journal")), "a refused search wrote its run");
        }
    }

    [Fact]
    public void A_partial_settings_file_changes_only_its_keys_and_the_stored_settings_are_complete()
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        var config = dir.File("config.json", """{"strategy": "random", "budget": 2, "top_k": 0, "trainer": "synthetic", "search": {"epochs": 27}}""");
        var r = NasProcess.Run("search", "--run", run, "--config", config, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var stored = SettingsJson.Parse(File.ReadAllText(Path.Combine(run, "run.json")), "run.json");
        var defaults = new NasActors.Search.SearchSettings();
        Assert.Equal(defaults.Search with { Epochs = 27 }, stored.Search);
        Assert.Equal(defaults.Final, stored.Final);
        Assert.Equal(("random", 2, 0), (stored.Strategy, stored.Budget, stored.TopK));
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "run.json")));
        Assert.True(doc.RootElement.GetProperty("search").TryGetProperty("validation_size", out _));
    }

    public static TheoryData<string, string> FailingTrainers => new()
    {
        { "exec:echo 'loss went to the moon' >&2; exit 3", "exited with code 3; standard error ends with:\nloss went to the moon" },
        { "exec:echo '{\"accuracy\": NaN}'", "must be a JSON object with \"accuracy\" in [0, 1]" },
        { "exec:echo '{\"accuracy\": 1.7}'", "must be a JSON object with \"accuracy\" in [0, 1]" },
        { "exec:echo '{\"accuracy\": 0.5, \"test_accuracy\": 7}'", "\"test_accuracy\" in [0, 1]" },
        { "exec:echo '{\"accuracy\": 0.5, \"params\": -5}'", "whole non-negative \"params\"" },
        { "exec:echo '{\"accuracy\": 0.5, \"mult_adds\": 1e300}'", "whole non-negative \"params\" and \"mult_adds\"" },
        { "exec:echo starting >&2; sleep 30", "timed out after 1 s; standard error ends with:\nstarting" },
    };

    [Theory]
    [MemberData(nameof(FailingTrainers))]
    public async Task Failing_children_are_recorded_with_their_reason_and_the_search_still_ends(string trainer, string reason)
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        var settings = SettingsJson.Options;
        var config = dir.File("config.json", JsonSerializer.Serialize(new NasActors.Search.SearchSettings
        {
            Strategy = "random", Budget = 3, TopK = 1, Trainer = trainer,
            Search = new NasActors.Search.SearchSettings().Search with { TimeoutSeconds = 1 },
        }, settings));
        var r = NasProcess.Run("search", "--run", run, "--config", config, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var failed = (await Events(run)).OfType<ChildFailed>().ToList();
        Assert.Equal(3, failed.Count);
        Assert.All(failed, f => Assert.Contains(reason, f.Reason));
        using var status = JsonDocument.Parse(r.Stdout);
        Assert.Equal(3, status.RootElement.GetProperty("failed").GetInt32());
        Assert.True(status.RootElement.GetProperty("finished").GetBoolean());
    }

    [Fact]
    public async Task SIGTERM_stops_a_search_gracefully_and_it_resumes()
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "nas.dll"), "search", "--run", run, "--trainer", "synthetic:200", "--children", "40", "--top-k", "0" })
            psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        // Wait until children are being recorded, then ask it to stop as a service manager would.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline && !(File.Exists(Path.Combine(run, "journal.db")) && (await Events(run)).OfType<ChildTrained>().Count() >= 3))
            await Task.Delay(200);
        System.Diagnostics.Process.Start("kill", ["-TERM", $"{p.Id}"])!.WaitForExit();
        Assert.True(p.WaitForExit(TimeSpan.FromSeconds(30)), "nas did not stop after SIGTERM");
        Assert.Equal(130, p.ExitCode);
        Assert.Contains("resume with: ./nas search --run", await stderr);

        var resumed = NasProcess.Run(["search", "--run", run, "--trainer", "synthetic:0", "--json"]);
        Assert.Equal(2, resumed.ExitCode); // the trainer is part of the run's settings
        resumed = NasProcess.Run(["search", "--run", run, "--json"]);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Equal(40, (await Events(run)).OfType<ChildTrained>().Select(t => t.ChildId).Distinct().Count());
    }

    [Fact]
    public void Foreign_corrupt_and_changed_run_folders_and_unknown_config_keys_are_refused()
    {
        using var dir = new TempDir();
        var foreign = Path.Combine(dir.Path, "foreign");
        Directory.CreateDirectory(foreign);
        File.WriteAllText(Path.Combine(foreign, "notes.txt"), "mine");
        var r = NasProcess.Run(Search(foreign, "--trainer", "synthetic"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("is not a nas run folder", r.Stderr);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(foreign, "notes.txt")));

        var corrupt = Path.Combine(dir.Path, "corrupt");
        Directory.CreateDirectory(corrupt);
        File.WriteAllText(Path.Combine(corrupt, "run.json"), "{\"budget\": \"many\"}");
        r = NasProcess.Run(Search(corrupt, "--trainer", "synthetic"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("run.json", r.Stderr);
        Assert.Contains("$.budget", r.Stderr);

        var config = dir.File("config.json", "{\"strategy\": \"random\", \"bugdet\": 5}");
        r = NasProcess.Run("search", "--run", Path.Combine(dir.Path, "new"), "--config", config);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("bugdet", r.Stderr);

        var run = Path.Combine(dir.Path, "run");
        Assert.Equal(0, NasProcess.Run(Search(run, "--trainer", "synthetic")).ExitCode);
        r = NasProcess.Run(Search(run, "--trainer", "synthetic", "--seed", "8"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("only the budget, the devices and the timeouts may change on resume", r.Stderr);
        Assert.Contains("settings (seed", r.Stderr);

        // A larger budget continues the same run.
        r = NasProcess.Run(["search", "--run", run, "--children", "9", "--json"]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var status = JsonDocument.Parse(r.Stdout);
        Assert.Equal(9, status.RootElement.GetProperty("completed").GetInt32());
    }
}
