namespace NasActors.Persistence;

/// <summary>
/// What a run's persistent actor says when its journal cannot be read or written (a database that
/// is down, a connection cut), in place of Akka's "Persistence failure when replaying events ...
/// Last known sequence number [0]", which names neither what happened nor what follows.
/// </summary>
public static class JournalTrouble
{
    /// <param name="who">The actor, as the operator knows it: "the coordinator", "the evaluator".</param>
    public static string Recovery(string who, Exception reason, object? message, long lastSequenceNr) => (message, reason.GetBaseException()) switch
    {
        // A damaged or hand-edited journal: trying again reads the same entry.
        (not null, Search.ImpossibleEventException impossible) =>
            $"{who} cannot recover: the run's journal is damaged, a {message.GetType().Name} contradicts the events before it ({impossible.Message}); " +
            "nothing is written, and trying again reads the same entry (nas status names it)",
        (null, _) => $"{who} could not read the run's journal to recover ({Why(reason)}); it tries again with backoff, and nothing stored is lost",
        _ => $"{who} could not replay {message.GetType().Name} after event {lastSequenceNr} ({Why(reason)}); it tries again with backoff",
    };

    public static string Write(string who, Exception cause, object @event, long sequenceNr) =>
        $"{who} could not write {@event.GetType().Name} (event {sequenceNr}) to the run's journal ({Why(cause)}); " +
        "it starts again from what is stored once the database answers, and what was not stored is reported or decided again: nothing is lost";

    private static string Why(Exception e) => e.GetBaseException().Message.Split('\n')[0];
}
