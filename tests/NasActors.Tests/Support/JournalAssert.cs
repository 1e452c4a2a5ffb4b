using NasActors.Search.Events;

namespace NasActors.Tests.Support;

/// <summary>What every chaos test asks of a finished run's journal.</summary>
public static class JournalAssert
{
    /// <summary>Exactly <paramref name="budget"/> children trained, each once: nothing lost, nothing counted twice.</summary>
    public static IReadOnlyList<ChildTrained> EachTrainedOnce(IEnumerable<ISearchEvent> events, int budget)
    {
        var trained = events.OfType<ChildTrained>().ToList();
        Assert.All(trained.GroupBy(t => t.ChildId), g => Assert.Single(g));
        Assert.Equal(budget, trained.Count);
        return trained;
    }
}
