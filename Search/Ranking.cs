namespace NasActors.Search;

/// <summary>
/// The one order of trained children, for the evaluator's leaderboard, <c>nas top</c>, export and
/// the report alike: higher validation accuracy first, ties by the earlier child.
/// </summary>
public static class Ranking
{
    public static IComparer<T> By<T>(Func<T, double> accuracy, Func<T, long> childId) =>
        Comparer<T>.Create((a, b) => accuracy(a) != accuracy(b) ? accuracy(b).CompareTo(accuracy(a)) : childId(a).CompareTo(childId(b)));

    private static readonly IComparer<ChildRecord> Children = By<ChildRecord>(c => c.Search.Outcome!.Accuracy, c => c.Id);

    /// <summary>The state's trained children, best first.</summary>
    public static IEnumerable<ChildRecord> Trained(SearchState s) =>
        s.Children.Values.Where(c => c.Search.Status == JobStatus.Trained).Order(Children);
}
