using NasActors.Tests.Support;

namespace NasActors.Tests.Cli;

/// <summary>
/// Inputs a hostile but realistic user gives (issue 39's probe), each through a real <c>nas</c>
/// process: one line naming the option or setting, exit 2, and nothing left behind or lost.
/// </summary>
public class HostileInputTests
{
    private static void AssertOneLine(NasProcess.Result r, int exitCode, string message)
    {
        Assert.True(r.ExitCode == exitCode, $"exit {r.ExitCode}: {r.Stderr}");
        var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("nas: error: ", line);
        Assert.Contains(message, line);
    }

    /// <summary>A search given these settings refuses them in one line, before its run folder exists.</summary>
    private static void AssertSettingsRefused(string settings, string message)
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        AssertOneLine(NasProcess.Run("search", "--run", run, "--config", dir.File("config.json", settings)), 2, message);
        Assert.False(Directory.Exists(run));
    }

    [Theory]
    [InlineData("model", "--stem-filters", "0", "--stem-filters: stem filters must be between 1 and")]
    [InlineData("model", "--stem-filters", "-5", "--stem-filters: stem filters must be between 1 and")]
    [InlineData("train", "--stem-filters", "0", "--stem-filters: stem filters must be between 1 and")]
    [InlineData("model", "--filters", "1000000", "--filters: filters (F) must be between 4 and 4096, got 1000000")]
    [InlineData("model", "--cells", "1000000", "--cells: at most 100 normal cells per stage")]
    [InlineData("model", "--classes", "1", "--classes: classes must be at least 2")]
    public void A_network_that_cannot_be_built_is_refused_naming_its_option_before_any_work(string command, string option, string value, string message)
    {
        string[] training = command == "train" ? ["--epochs", "1", "--train-limit", "50", "--validation", "20"] : [];
        AssertOneLine(NasProcess.Run([command, option, value, .. training]), 2, message);
    }

    [Theory]
    [InlineData("--lr", "--lr: must be a number such as 0.05, got \"NaN\"")]
    [InlineData("--grad-clip", "gradient clip must be positive, got NaN")]
    [InlineData("--weight-decay", "weight decay must be a number, not negative, got NaN")]
    [InlineData("--drop-path-keep", "--drop-path-keep: must be a number such as 0.05, got \"NaN\"")]
    public void NaN_training_settings_are_refused_before_training(string option, string message)
    {
        var r = NasProcess.Run("train", "--epochs", "1", "--train-limit", "50", "--validation", "20", option, "NaN", "--json");
        AssertOneLine(r, 2, message);
        Assert.Equal("", r.Stdout);
    }

    [Theory]
    [InlineData("""{"search": {"drop_path_keep": 0}}""", "search.drop_path_keep must be in (0, 1], got 0")]
    [InlineData("""{"final": {"learning_rate": -1}}""", "final.learning_rate must be positive, got -1")]
    [InlineData("""{"search": {"batch_size": 0}}""", "search.batch_size must be at least 1, got 0")]
    [InlineData("""{"search": {"train_limit": 0}}""", "search.train_limit must be at least 1, got 0")]
    public void Training_settings_that_would_fail_every_child_are_refused_when_the_settings_are_read(string settings, string message) =>
        AssertSettingsRefused(settings, message);

    [Fact]
    public void Train_refuses_an_out_folder_holding_an_earlier_training_or_one_it_cannot_write_before_training()
    {
        using var dir = new TempDir();
        var earlier = Directory.CreateDirectory(Path.Combine(dir.Path, "earlier")).FullName;
        File.WriteAllText(Path.Combine(earlier, "result.json"), "{\"accuracy\": 0.58}\n");
        File.WriteAllText(Path.Combine(earlier, "model.pt"), "weights");
        string[] train = ["train", "--epochs", "1", "--train-limit", "50", "--validation", "20", "--json", "--out"];
        AssertOneLine(NasProcess.Run([.. train, earlier]), 2, "already holds an earlier training (result.json, model.pt): pass --resume");
        Assert.Equal("{\"accuracy\": 0.58}\n", File.ReadAllText(Path.Combine(earlier, "result.json")));
        Assert.Equal("weights", File.ReadAllText(Path.Combine(earlier, "model.pt")));
        AssertOneLine(NasProcess.Run([.. train, dir.File("a-file", "x")]), 2, "--out: ");
        AssertOneLine(NasProcess.Run([.. train, "/proc/nas-out"]), 2, "--out: cannot write to /proc/nas-out");
    }

    [RootFact]
    public void Writing_over_a_file_on_a_full_disk_fails_in_one_line_and_keeps_the_file()
    {
        using var dir = new TempDir();
        // A 64 KB file system, nearly filled: the new file cannot be written whole.
        var disk = Directory.CreateDirectory(Path.Combine(dir.Path, "disk")).FullName;
        Assert.Equal(0, NasProcess.RunToEnd(new System.Diagnostics.ProcessStartInfo("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", disk]), TimeSpan.FromSeconds(30)).ExitCode);
        try
        {
            var model = Path.Combine(disk, "F.py");
            File.WriteAllText(model, "# the network the user kept\n");
            File.WriteAllBytes(Path.Combine(disk, "filler"), new byte[60 * 1024]);
            var r = NasProcess.Run("model", "--genotype", "nasnet-a", "--cells", "6", "--filters", "32", "--pytorch", model);
            Assert.Equal(1, r.ExitCode);
            Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Equal("# the network the user kept\n", File.ReadAllText(model));
            Assert.Equal(["F.py", "filler"], Directory.EnumerateFiles(disk).Select(Path.GetFileName).Order());
        }
        finally
        {
            NasProcess.RunToEnd(new System.Diagnostics.ProcessStartInfo("umount", [disk]), TimeSpan.FromSeconds(30));
        }
    }

    [Theory]
    [InlineData("""{"budget": 3, "budget": 4}""", "budget")]
    [InlineData("""{"search": {"epochs": 1, "epochs": 2}}""", "epochs")]
    [InlineData("""{"search": {"filters": null}}""", "$.search.filters: expected a number, got null")]
    [InlineData("""{"search": null}""", "$.search: expected an object, got null")]
    [InlineData("""{"search": {"cells": 1.5}}""", "expected a whole number or a list of 3 whole numbers, got 1.5")]
    public void A_settings_file_with_a_duplicate_key_or_a_value_of_the_wrong_kind_is_one_line_saying_what_the_key_takes(string settings, string message) =>
        AssertSettingsRefused(settings, message);

    [Theory]
    [InlineData("train", "3")]
    [InlineData("train", "0")]
    [InlineData("train", "2000")]
    [InlineData("model", "2000")]
    [InlineData("model", "3")]
    public void Image_sizes_are_one_range_for_every_command(string command, string size)
    {
        string[] more = command == "train" ? ["--dataset", $"folder:{Path.GetTempPath()}", "--epochs", "1"] : [];
        AssertOneLine(NasProcess.Run([command, "--image", size, .. more]), 2, $"--image: image size must be between 8 and 1024 pixels, got {size}");
    }

    [Fact]
    public void Status_of_a_search_killed_without_a_word_says_no_process_writes_it_and_its_clock_stops()
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        using var search = NasProcess.Start("search", "--run", run, "--children", "4", "--trainer", "synthetic:60000", "--strategy", "random", "--top-k", "0");
        var deadline = DateTime.UtcNow.AddMinutes(1);
        System.Text.Json.JsonElement Status() => System.Text.Json.JsonDocument.Parse(NasProcess.Run("status", "--run", run, "--json").Stdout).RootElement;
        bool Training()
        {
            var r = NasProcess.Run("status", "--run", run, "--json");
            return r.ExitCode == 0 && System.Text.Json.JsonDocument.Parse(r.Stdout).RootElement.GetProperty("running").GetInt32() > 0;
        }
        while (!Training())
        {
            Assert.True(DateTime.UtcNow < deadline, "no child started training within a minute");
            Thread.Sleep(250);
        }
        Assert.True(Status().GetProperty("writing").GetBoolean());
        search.Kill();
        search.WaitForExit();
        var first = Status();
        Assert.Equal((0, false), (first.GetProperty("running").GetInt32(), first.GetProperty("writing").GetBoolean()));
        Assert.True(first.GetProperty("interrupted").GetInt32() > 0, first.ToString());
        Thread.Sleep(1500);
        Assert.Equal(first.GetProperty("elapsed_s").GetDouble(), Status().GetProperty("elapsed_s").GetDouble());
    }

    [Theory]
    [InlineData("--cells")]
    [InlineData("--filters")]
    [InlineData("--image")]
    public void Export_of_a_genotype_refuses_options_that_shape_only_a_network(string option)
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        Assert.Equal(0, NasProcess.Run("search", "--run", run, "--children", "2", "--top-k", "0", "--strategy", "random", "--trainer", "synthetic").ExitCode);
        AssertOneLine(NasProcess.Run("export", "--run", run, option, "8"), 2, $"{option}: shapes the network of --format pytorch");
        Assert.Equal(0, NasProcess.Run("export", "--run", run, "--format", "pytorch", option, "8", "--out", Path.Combine(dir.Path, "net.py")).ExitCode);
    }

    [Theory]
    [InlineData("touch \"$DIR/a$(printf '\\377').png\"", "its name is not UTF-8")]       // 0xFF is never UTF-8
    [InlineData("mkfifo \"$DIR/pipe.png\"", "not a regular file (a pipe")]                  // once blocked for good
    [InlineData("ln -s /proc/self/mem \"$DIR/mem.png\"", "mem.png: ")]                      // once aborted the process (EIO)
    public void An_image_that_cannot_be_read_is_named_in_one_line(string make, string message)
    {
        using var dir = new TempDir();
        var root = Path.Combine(dir.Path, "images");
        // Two classes of good images beside the one that cannot be read.
        using (var bitmap = new SkiaSharp.SKBitmap(12, 12))
        using (var png = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100))
            foreach (var split in new[] { "train", "test" })
                foreach (var cls in new[] { "cat", "dog" })
                    File.WriteAllBytes(Path.Combine(Directory.CreateDirectory(Path.Combine(root, split, cls)).FullName, "ok.png"), png.ToArray());
        var start = new System.Diagnostics.ProcessStartInfo("sh", ["-c", make]) { Environment = { ["DIR"] = Path.Combine(root, "train", "cat") } };
        Assert.Equal(0, NasProcess.RunToEnd(start, TimeSpan.FromSeconds(10)).ExitCode);
        var r = NasProcess.Run("train", "--dataset", $"folder:{root}", "--epochs", "1");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(message, Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
    }

    [Fact]
    public void A_validation_size_the_dataset_cannot_hold_is_refused_before_the_search_starts_leaving_no_folder()
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        var config = dir.File("config.json", """{"search": {"validation_size": 999999}}""");
        AssertOneLine(NasProcess.Run("search", "--run", run, "--config", config), 2,
            "search.validation_size: 999999 images held out to score each child, but fashion-mnist-mini/train has 3000 training images: give between 1 and 2999");
        Assert.False(Directory.Exists(run));
    }

    [Theory]
    [InlineData("--blocks", "0", "blocks must be between 1 and 64, got 0")]
    [InlineData("--blocks", "100000", "blocks must be between 1 and 64, got 100000")]
    [InlineData("--precision", "fp16", "fp16 needs CUDA devices")]
    [InlineData("--strategy", "annealing", "annealing")]
    public void A_refused_search_leaves_nothing_in_a_new_folder_and_an_existing_empty_one_empty(string option, string value, string message)
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "new");
        AssertOneLine(NasProcess.Run("search", "--run", run, option, value), 2, message);
        Assert.False(Directory.Exists(run));
        var existing = Directory.CreateDirectory(Path.Combine(dir.Path, "existing")).FullName;
        AssertOneLine(NasProcess.Run("search", "--run", existing, option, value), 2, message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(existing));
    }
}
