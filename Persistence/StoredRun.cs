using NasActors.Protocol;
using NasActors.Persistence.Snapshots;
using NasActors.Search;
using NasActors.Search.Events;

namespace NasActors.Persistence;

/// <summary>One journal entry of the coordinator: its sequence number, when it was written, and the event.</summary>
public sealed record StoredEvent(long SequenceNr, DateTimeOffset At, ISearchEvent Event)
{
    /// <summary>
    /// The state after stored entries. An entry the state before it makes impossible (a damaged or
    /// hand-edited journal) is one line naming where it is, its number and what it contradicts.
    /// </summary>
    public static SearchState Fold(string where, IEnumerable<StoredEvent> entries, SearchState? from = null) =>
        entries.Aggregate(from ?? SearchState.Empty, (state, entry) => entry.Apply(state, where));

    /// <summary>The state after this entry (see <see cref="Fold"/>).</summary>
    public SearchState Apply(SearchState state, string where)
    {
        try
        {
            return state.Evolve(Event);
        }
        catch (ImpossibleEventException e)
        {
            throw new RunStoreException($"{where}: entry {SequenceNr} ({JournalFormat.Default.Manifest(Event)}) contradicts the entries before it: {e.Message}", e);
        }
    }
}

/// <summary>A run as stored: its state, and the coordinator's latest snapshot it was folded from (if any).</summary>
public sealed record StoredRun(SearchState State, ISearchSnapshot? Snapshot);
