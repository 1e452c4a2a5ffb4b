namespace NasActors.Persistence;

/// <summary>Names in the journal that several roles share.</summary>
public static class SearchJournal
{
    /// <summary>The persistence id of the search coordinator: the search's event stream.</summary>
    public const string CoordinatorId = "search";
}
