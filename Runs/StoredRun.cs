using NasActors.Runs.Snapshots;
using NasActors.Search;
using NasActors.Search.Events;

namespace NasActors.Runs;

/// <summary>A run's stored journal or snapshots that cannot be used; the message names where and the problem.</summary>
public sealed class RunStoreException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>One journal entry of the coordinator: its sequence number, when it was written, and the event.</summary>
public sealed record StoredEvent(long SequenceNr, DateTimeOffset At, ISearchEvent Event);

/// <summary>A run as stored: its state, and the coordinator's latest snapshot it was folded from (if any).</summary>
public sealed record StoredRun(SearchState State, ISearchSnapshot? Snapshot);
