using NasActors.Protocol;
using NasActors.Search.Events;

namespace NasActors.Persistence;

/// <summary>
/// What the coordinator stores, in the one wire format: its events (Search) and its snapshots
/// (this room's stored shapes). The read side decodes a run with it, with no actor system.
/// </summary>
public static class JournalFormat
{
    /// <summary>The coordinator's stored types.</summary>
    public static IEnumerable<Type> Types => [.. WireFormat.TypesIn(typeof(ISearchEvent).Assembly), .. WireFormat.TypesIn(typeof(JournalFormat).Assembly)];

    public static WireFormat Default => Format.Value;

    private static readonly Lazy<WireFormat> Format = new(() => new WireFormat(Types));
}
