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
    public static SearchState Fold(string where, IEnumerable<StoredEvent> entries, SearchState? from = null)
    {
        var state = from ?? SearchState.Empty;
        foreach (var entry in entries)
        {
            try
            {
                state = state.Evolve(entry.Event);
            }
            catch (ImpossibleEventException e)
            {
                throw new RunStoreException($"{where}: entry {entry.SequenceNr} ({JournalFormat.Default.Manifest(entry.Event)}) contradicts the entries before it: {e.Message}", e);
            }
        }
        return state;
    }
}

/// <summary>A run as stored: its state, and the coordinator's latest snapshot it was folded from (if any).</summary>
public sealed record StoredRun(SearchState State, ISearchSnapshot? Snapshot);
