using System.Reflection;

namespace NasActors.Tests;

/// <summary>The rooms of docs/architecture.md as assemblies, by floor: a room may use only rooms on lower floors.</summary>
public static class Architecture
{
    public static readonly IReadOnlyDictionary<string, int> Floors = new Dictionary<string, int>
    {
        ["NasActors.SearchSpace"] = 0,
        ["NasActors.Tensors"] = 0,
        ["NasActors.Protocol"] = 1,
        ["NasActors.Search"] = 2,
        ["NasActors.Training"] = 2,
        ["NasActors.Persistence"] = 3,
        ["NasActors.ChildTrainer"] = 3,
        ["NasActors.Controller"] = 4,
        ["NasActors.Evaluator"] = 4,
        ["NasActors.Reports"] = 4,
        ["NasActors.Hosting"] = 5,
        ["NasActors.Bench"] = 6,
        ["nas"] = 7,
    };

    public static IEnumerable<Assembly> ProductAssemblies() => Floors.Keys.Select(name => Assembly.Load(name));

    /// <summary>The product's rooms an assembly uses.</summary>
    public static IEnumerable<string> Uses(Assembly assembly) =>
        assembly.GetReferencedAssemblies().Select(a => a.Name!).Where(Floors.ContainsKey);
}

public class ArchitectureTests
{
    [Fact]
    public void Every_room_uses_only_rooms_below_it()
    {
        // Every assembly of the product has its floor (a new room is placed before it is used).
        var built = Directory.GetFiles(AppContext.BaseDirectory, "NasActors.*.dll").Select(Path.GetFileNameWithoutExtension).Where(n => n != "NasActors.Tests");
        Assert.All(built, n => Assert.Contains(n!, Architecture.Floors.Keys));

        var wrong = Architecture.ProductAssemblies()
            .SelectMany(a => Architecture.Uses(a).Where(used => Architecture.Floors[used] >= Architecture.Floors[a.GetName().Name!]).Select(used => $"{a.GetName().Name} uses {used}"))
            .ToList();
        Assert.Empty(wrong);
    }

    [Fact]
    public void The_core_and_the_training_library_know_nothing_of_actors_or_the_command_line()
    {
        string[] core = ["NasActors.SearchSpace", "NasActors.Protocol", "NasActors.Search"];
        foreach (var name in core)
            Assert.DoesNotContain(Assembly.Load(name).GetReferencedAssemblies(), a => a.Name!.StartsWith("Akka", StringComparison.Ordinal) || a.Name == "System.CommandLine");
        // Networks, data, kernel checks and training serve any caller, with no actor system: they take a trainer spec, not the search's state or its store.
        Assert.DoesNotContain(Assembly.Load("NasActors.Training").GetReferencedAssemblies(), a => a.Name!.StartsWith("Akka", StringComparison.Ordinal));
        Assert.DoesNotContain(Architecture.Uses(Assembly.Load("NasActors.Training")), used => used is "NasActors.Search" or "NasActors.Persistence");
        Assert.DoesNotContain(Architecture.Uses(Assembly.Load("NasActors.ChildTrainer")), used => used is "NasActors.Search" or "NasActors.Persistence");
    }
}
