using System.CommandLine;
using NasActors.Training.Networks;
using NasActors.SearchSpace;

namespace NasActors.Cli.Commands;

/// <summary>The options that shape a network, shared by <c>model</c> and <c>train</c>.</summary>
public sealed class NetworkOptions
{
    public Option<string> Genotype { get; } = new("--genotype", "-g") { Description = GenotypeSource.Help, DefaultValueFactory = _ => "nasnet-a" };
    public Option<CellCounts> Cells { get; }
    public Option<int> Filters { get; }
    public Option<bool> Aux { get; } = new("--aux") { Description = "add the auxiliary classifier head (trained with weight 0.4)" };
    public Option<int?> StemFilters { get; } = new("--stem-filters") { Description = "stem conv filters (default 3F for small images, 32 for ImageNet-sized)" };
    public Option<double> DropPathKeep { get; } = new("--drop-path-keep")
    {
        Description = "ScheduledDropPath keep probability at the last cell at the end of training", DefaultValueFactory = _ => 1.0, CustomParser = r => SizingOptions.ParseFloat(r) ?? 0,
    };

    public NetworkOptions(int defaultCells, int defaultFilters)
    {
        Cells = new Option<CellCounts>("--cells", "-N")
        {
            Description = "normal cells per stage: N builds N-R-N-R-N; one count per stage, such as 4,3,3, builds 4-R-3-R-3",
            DefaultValueFactory = _ => defaultCells,
            CustomParser = result => ParseCells(result)!,
        };
        Filters = new Option<int>("--filters", "-F") { Description = "filters of the first stage's blocks (F); P = 24F for NASNet-A", DefaultValueFactory = _ => defaultFilters };
    }

    /// <summary>"6" or "4,3,3" as a cell count; a problem is the option's parse error.</summary>
    public static CellCounts? ParseCells(System.CommandLine.Parsing.ArgumentResult result)
    {
        try
        {
            return CellCounts.Parse(string.Join(",", result.Tokens.Select(t => t.Value)));
        }
        catch (ArgumentException e)
        {
            result.AddError($"{(result.Parent as System.CommandLine.Parsing.OptionResult)?.Option.Name ?? "--cells"}: {e.Message}");
            return null;
        }
    }

    /// <param name="genotype">false where the genotype comes from elsewhere (a run's child)</param>
    public void AddTo(Command command, bool genotype = true)
    {
        foreach (var o in new Option[] { Genotype, Cells, Filters, Aux, StemFilters, DropPathKeep }.Where(o => genotype || o != Genotype))
            command.Options.Add(o);
    }

    public NetworkConfig Config(ParseResult parse, int channels, int imageSize, int classes, StemKind stem) =>
        Config(parse, GenotypeSource.Load(parse.GetValue(Genotype)!), channels, imageSize, classes, stem);

    public NetworkConfig Config(ParseResult parse, Genotype genotype, int channels, int imageSize, int classes, StemKind stem) =>
        new(genotype, parse.GetValue(Cells)!, parse.GetValue(Filters), classes, channels, imageSize, stem,
            parse.GetValue(StemFilters), parse.GetValue(Aux), DropPathKeep: parse.GetValue(DropPathKeep));

    /// <summary>The input options of a network counted or exported without data: a preset shape, and overrides.</summary>
    public static (Option<string> Dataset, Option<int?> Image, Option<int?> Classes) InputOptions()
    {
        var dataset = new Option<string>("--dataset", "-d") { Description = InputPresets.Help, DefaultValueFactory = _ => "cifar10" };
        var image = new Option<int?>("--image") { Description = "image size in pixels (overrides the preset)" };
        var classes = new Option<int?>("--classes") { Description = "number of classes (overrides the preset)" };
        return (dataset, image, classes);
    }

    /// <summary>The network of <paramref name="genotype"/> for the input those options name, and that input's preprocessing.</summary>
    /// <param name="input">false where the preprocessing is not used: an image folder's images are then not read for its statistics, and none is returned</param>
    public (NetworkPlan Plan, Preprocessing? Input) Plan(ParseResult parse, Genotype genotype, Option<string> dataset, Option<int?> image, Option<int?> classes, bool input = true)
    {
        var preset = InputPresets.Resolve(parse.GetValue(dataset)!, parse.GetValue(image), statistics: input);
        var size = parse.GetValue(image) ?? preset.Size;
        var plan = NetworkPlan.Create(Config(parse, genotype, preset.Channels, size, parse.GetValue(classes) ?? preset.Classes, NetworkConfig.StemFor(size)));
        return (plan, input ? preset.For(size, plan.Config.Classes) : null);
    }
}
