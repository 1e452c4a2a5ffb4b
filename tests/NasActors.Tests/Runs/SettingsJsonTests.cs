using NasActors.Runs;
using NasActors.Search;

namespace NasActors.Tests.Runs;

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
        Assert.Equal("the run was started with other settings (Space, Blocks); only the budget and the devices may change on resume", problem);
    }
}
