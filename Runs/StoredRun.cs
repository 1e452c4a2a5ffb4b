using NasActors.Runs.Snapshots;
using NasActors.Search;
using NasActors.Search.Events;

namespace NasActors.Runs;

/// <summary>One journal entry of the coordinator: its sequence number, when it was written, and the event.</summary>
public sealed record StoredEvent(long SequenceNr, DateTimeOffset At, ISearchEvent Event);

/// <summary>A run as stored: its state, and the coordinator's latest snapshot it was folded from (if any).</summary>
public sealed record StoredRun(SearchState State, ISearchSnapshot? Snapshot);
