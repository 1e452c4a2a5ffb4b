using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using NasActors.Protocol;
using NasActors.Protocol.Messages;
using NasActors.Search;
using NasActors.SearchSpace;

namespace NasActors.Cli.Commands;

/// <summary>
/// The options that size what a search trains, named as <c>nas train</c>'s: its children's
/// (<c>--cells</c>, <c>--epochs</c>, ...) or, prefixed <c>--final-</c>, its finalists'. Each one given
/// replaces that key of the settings (the file's, or the defaults); the values are checked there.
/// </summary>
public sealed class SizingOptions
{
    private readonly string prefix;
    private readonly string key;

    public Option<CellCounts?> Cells { get; }
    public Option<int?> Filters { get; }
    public Option<int?> Epochs { get; }
    public Option<int?> Batch { get; }
    public Option<double?> LearningRate { get; }
    public Option<string?> TrainLimit { get; }
    public Option<int?> Validation { get; }
    public Option<double?> DropPathKeep { get; }
    public Option<int?> Timeout { get; }

    /// <param name="final">The final training's options (--final-cells, ...), else the search children's.</param>
    public SizingOptions(bool final)
    {
        prefix = final ? "--final-" : "--";
        key = final ? "final" : "search";
        var whose = final ? "the finalists' final training" : "each search child";
        var defaults = final ? new SearchSettings().Final : new SearchSettings().Search;
        Cells = new Option<CellCounts?>(prefix + "cells")
        {
            Description = $"normal cells per stage of {whose}'s network: N, or 4,3,3 (default {defaults.Cells})",
            CustomParser = NetworkOptions.ParseCells,
        };
        Filters = new Option<int?>(prefix + "filters") { Description = $"filters F of {whose}'s first stage (default {defaults.Filters})" };
        Epochs = new Option<int?>(prefix + "epochs") { Description = $"epochs of {whose} (default {defaults.Epochs})" };
        Batch = new Option<int?>(prefix + "batch") { Description = $"batch size of {whose} (default {defaults.BatchSize})" };
        LearningRate = new Option<double?>(prefix + "lr")
        {
            Description = $"initial learning rate of {whose}, cosine to 0 (default {defaults.LearningRate.ToString(CultureInfo.InvariantCulture)})",
            CustomParser = ParseFloat,
        };
        TrainLimit = new Option<string?>(prefix + "train-limit")
        {
            Description = $"train {whose} on at most this many images, or all (default {defaults.TrainLimit?.ToString(CultureInfo.InvariantCulture) ?? "all"})",
        };
        Validation = new Option<int?>(prefix + "validation") { Description = $"training images held out to validate {whose} (default {defaults.ValidationSize})" };
        DropPathKeep = new Option<double?>(prefix + "drop-path-keep")
        {
            Description = $"ScheduledDropPath keep probability of {whose} at the end of training (default {defaults.DropPathKeep.ToString(CultureInfo.InvariantCulture)})",
            CustomParser = ParseFloat,
        };
        Timeout = new Option<int?>(final ? "--final-timeout" : "--child-timeout")
        {
            Description = $"seconds {whose} may take before it fails (default {defaults.TimeoutSeconds}; may change on resume)",
        };
    }

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Cells, Filters, Epochs, Batch, LearningRate, TrainLimit, Validation, DropPathKeep, Timeout })
            command.Options.Add(option);
    }

    /// <summary>The spec with each option given in place of its key.</summary>
    public TrainingSpec Apply(ParseResult parse, TrainingSpec spec) => spec with
    {
        Cells = parse.GetValue(Cells) ?? spec.Cells,
        Filters = parse.GetValue(Filters) ?? spec.Filters,
        Epochs = parse.GetValue(Epochs) ?? spec.Epochs,
        BatchSize = parse.GetValue(Batch) ?? spec.BatchSize,
        LearningRate = parse.GetValue(LearningRate) ?? spec.LearningRate,
        TrainLimit = parse.GetValue(TrainLimit) is { } limit ? ParseLimit(limit) : spec.TrainLimit,
        ValidationSize = parse.GetValue(Validation) ?? spec.ValidationSize,
        DropPathKeep = parse.GetValue(DropPathKeep) ?? spec.DropPathKeep,
        TimeoutSeconds = parse.GetValue(Timeout) is { } seconds
            ? seconds >= 1 ? seconds : throw new InputException(Timeout.Name, $"must be at least 1 second, got {seconds}")
            : spec.TimeoutSeconds,
    };

    /// <summary>
    /// A finite number written as in the settings file (0.05, 5e-2): a comma is no decimal point
    /// here nor a thousands separator (0,05 would otherwise read as 5).
    /// </summary>
    public static double? ParseFloat(ArgumentResult result)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)) return value;
        result.AddError($"{(result.Parent as OptionResult)?.Option.Name}: must be a number such as 0.05, got \"{text}\"");
        return null;
    }

    /// <summary>A number of images, or all (the settings' null): anything else is named with its option.</summary>
    private int? ParseLimit(string text)
    {
        if (text == "all") return null;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1) return n;
        throw new InputException(TrainLimit.Name, $"must be a number of images (at least 1) or all, got \"{text}\" ({key}.train_limit)");
    }
}
