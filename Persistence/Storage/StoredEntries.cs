using NasActors.Protocol;
using NasActors.Persistence.Snapshots;
using NasActors.Search;
using NasActors.Search.Events;

namespace NasActors.Persistence.Storage;

/// <summary>Decoding of the rows Akka.Persistence.Sql writes, the same on every database.</summary>
internal static class StoredEntries
{
    /// <summary>A journal row's write time: UTC ticks, as Akka.Persistence.Sql writes them.</summary>
    public static DateTimeOffset WriteTime(string where, long sequenceNr, long ticks) =>
        ticks < DateTime.MinValue.Ticks || ticks > DateTime.MaxValue.Ticks
            ? throw new RunStoreException($"{where}: entry {sequenceNr} has an impossible write time ({ticks})")
            : new DateTimeOffset(ticks, TimeSpan.Zero);

    /// <summary>Journal rows (sequence_number, manifest, message, created), in the order read.</summary>
    public static List<StoredEvent> Events(System.Data.Common.DbDataReader reader, string where)
    {
        var events = new List<StoredEvent>();
        while (reader.Read())
        {
            var seq = reader.GetInt64(0);
            events.Add(new(seq, WriteTime(where, seq, reader.GetInt64(3)), Decode<ISearchEvent>(where, seq, reader.GetString(1), Payload(reader, 2, where, seq))));
        }
        return events;
    }

    /// <summary>The first snapshot row (sequence_number, manifest, snapshot), if any, with the state it holds.</summary>
    public static (long SequenceNr, ISearchSnapshot Snapshot, SearchState State)? Snapshot(System.Data.Common.DbDataReader reader, string where)
    {
        if (!reader.Read()) return null;
        var seq = reader.GetInt64(0);
        var snapshot = Decode<ISearchSnapshot>(where, seq, reader.GetString(1), Payload(reader, 2, where, seq));
        try
        {
            return (seq, snapshot, snapshot.ToState());
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or ArgumentException or InvalidOperationException)
        {
            // Well-formed JSON that no state can come from (an unknown status, a child twice).
            throw new RunStoreException($"{where}: entry {seq} is unreadable ({e.Message})", e);
        }
    }

    /// <summary>An entry's payload: bytes, as Akka.Persistence.Sql writes them (a hand-edited row may hold text or nothing).</summary>
    private static byte[] Payload(System.Data.Common.DbDataReader reader, int column, string where, long sequenceNr) => reader.GetValue(column) switch
    {
        byte[] bytes => bytes,
        DBNull => throw new RunStoreException($"{where}: entry {sequenceNr} has no payload"),
        var other => throw new RunStoreException($"{where}: entry {sequenceNr} holds its payload as {(other is string ? "text" : other.GetType().Name)}, not bytes"),
    };

    public static T Decode<T>(string where, long sequenceNr, string manifest, byte[] payload)
    {
        try
        {
            return JournalFormat.Default.FromBinary(payload, manifest) is T value
                ? value
                : throw new RunStoreException($"{where}: entry {sequenceNr} is a {manifest}, not a search {(typeof(T) == typeof(ISearchSnapshot) ? "snapshot" : "event")}");
        }
        catch (System.Runtime.Serialization.SerializationException e)
        {
            throw new RunStoreException($"{where}: entry {sequenceNr} is unreadable ({e.Message})", e);
        }
    }
}
