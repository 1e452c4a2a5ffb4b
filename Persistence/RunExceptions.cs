namespace NasActors.Persistence;

/// <summary>What was named is not a usable nas run: a foreign folder, no such run, settings that are corrupt or unknown; the message says why.</summary>
public sealed class InvalidRunException(string message) : Exception(message);

/// <summary>Another live nas process writes the run; the message names it.</summary>
public sealed class RunLockedException(string message) : Exception(message);

/// <summary>A run's stored journal or snapshots that cannot be used; the message names where and the problem.</summary>
public sealed class RunStoreException(string message, Exception? inner = null) : Exception(message, inner);
