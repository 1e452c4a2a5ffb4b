using NasActors.Persistence;
using NasActors.Search;

namespace NasActors.Tests.Persistence;

public class SettingsJsonTests
{
    [Theory]
    [InlineData("{}", "nasnet", 5)]
    [InlineData("""{"space": "darts"}""", "darts", 4)]
    [InlineData("""{"space": "darts", "blocks": 6}""", "darts", 6)]
    [InlineData("""{"blocks": 3}""", "nasnet", 3)]
    public void A_settings_file_without_blocks_takes_its_spaces_B(string json, string space, int blocks)
    {
        var settings = SettingsJson.Parse(json, "config.json");
        Assert.Equal((space, blocks), (settings.SpaceName, settings.Blocks));
    }

    [Fact]
    public void A_null_where_it_means_something_is_taken_and_anywhere_else_refused()
    {
        // train_limit null: every image (the search's default limits it to 1,000).
        var all = SettingsJson.Parse("""{"search": {"train_limit": null, "image": null}}""", "config.json", SearchSettings.NewSearch);
        Assert.Null(all.Search.TrainLimit);
        Assert.Equal(SearchSettings.NewSearch.Search with { TrainLimit = null }, all.Search);
        var e = Assert.Throws<InvalidRunException>(() => SettingsJson.Parse("""{"final": {"epochs": null}}""", "config.json", SearchSettings.NewSearch));
        Assert.Equal("config.json: $.final.epochs: expected a number, got null", e.Message);
    }

    [Fact]
    public void A_partial_file_keeps_every_other_default_and_stores_complete()
    {
        var settings = SettingsJson.Parse("""{"search": {"epochs": 27, "cells": [2, 1, 1]}}""", "config.json");
        var defaults = new SearchSettings();
        Assert.Equal(defaults.Search with { Epochs = 27, Cells = new NasActors.SearchSpace.CellCounts(2, 1, 1) }, settings.Search);
        Assert.Equal(defaults.Final, settings.Final);
        var stored = System.Text.Json.JsonSerializer.Serialize(settings, SettingsJson.Options);
        Assert.Equal(stored, System.Text.Json.JsonSerializer.Serialize(SettingsJson.Parse(stored, "run.json"), SettingsJson.Options));
        Assert.DoesNotContain("\"space\"", stored);
    }

    [Fact]
    public void A_resume_with_another_space_names_the_stored_settings_that_differ()
    {
        var problem = new SearchSettings().Incompatibility(new SearchSettings { Space = "darts" });
        Assert.Equal("the run was started with other settings (space, blocks); only the budget, the devices and the timeouts may change on resume", problem);
    }

    [Fact]
    public void A_new_search_stores_its_PPO_and_a_run_stored_before_those_keys_reads_as_the_papers()
    {
        using var dir = new NasActors.Tests.Support.TempDir();
        var config = dir.File("config.json", """{"budget": 7}""");
        var fresh = SettingsJson.Read(config, over: null);
        Assert.Equal((4, true, 0.001), (fresh.PpoEpochs, fresh.PpoNormalizeAdvantages, fresh.PpoLearningRate));
        var stored = System.Text.Json.JsonSerializer.Serialize(fresh, SettingsJson.Options);
        Assert.Contains("\"ppo_epochs\": 4", stored);
        Assert.Contains("\"ppo_normalize_advantages\": true", stored);

        // Written before the keys existed: the paper's PPO, as the run ran (and replays).
        var old = SettingsJson.Parse(stored.Replace("\"ppo_epochs\": 4,", "").Replace("\"ppo_normalize_advantages\": true,", ""), "run.json");
        Assert.Equal((null, null), (old.PpoEpochs, old.PpoNormalizeAdvantages));
        var ppo = NasActors.Controller.Strategies.StrategyCatalog.ConfigFor(old).Ppo;
        Assert.Equal((1, false), (ppo.Epochs, ppo.NormalizeAdvantages));

        // On resume, a settings file's missing keys are the run's own: an old run stays the paper's.
        Assert.Null(old.Incompatibility(SettingsJson.Read(dir.File("resume.json", """{"budget": 9}"""), over: old)));
    }
}
