using System.Buffers;
using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.Serialization;
using System.Text.Json;
using NasActors.SearchSpace;

namespace NasActors.Protocol;

/// <summary>Marks a message or event that crosses nodes or is stored: it must carry a <see cref="WireNameAttribute"/>.</summary>
public interface IWireMessage;

/// <summary>The stable name a type is stored and sent under; renaming the class never changes it.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class WireNameAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}

/// <summary>
/// The wire format of everything that crosses nodes or is stored: System.Text.Json payloads under
/// stable names. Names map to types through a fixed registry (the types given, each with its
/// <see cref="WireNameAttribute"/>), so a payload can never name a type to create; an unknown name
/// or a malformed payload is an error, never a guess. The read side uses the stored types' format
/// (events and snapshots) with no actor system; a node's Akka serializer, where its actor system is
/// built, uses every type that crosses nodes or is stored.
/// </summary>
public sealed class WireFormat
{
    public static readonly JsonSerializerOptions Json = new()
    {
        Converters = { new GenotypeJsonConverter() },
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };

    private readonly Dictionary<string, Type> byName = new();
    private readonly Dictionary<Type, string> byType = new();

    /// <param name="types">every type it reads and writes, each with its <see cref="WireNameAttribute"/></param>
    public WireFormat(IEnumerable<Type> types)
    {
        foreach (var type in types)
        {
            var name = type.GetCustomAttribute<WireNameAttribute>()?.Name
                ?? throw new InvalidOperationException($"{type.FullName} is an IWireMessage without a [WireName]");
            if (!byName.TryAdd(name, type))
                throw new InvalidOperationException($"wire name \"{name}\" is used by both {byName[name].FullName} and {type.FullName}");
            byType.Add(type, name);
        }
    }

    /// <summary>The concrete <see cref="IWireMessage"/> types an assembly declares: a room's share of the registry.</summary>
    public static IEnumerable<Type> TypesIn(Assembly assembly) =>
        assembly.GetTypes().Where(t => typeof(IWireMessage).IsAssignableFrom(t) && !t.IsAbstract && !t.IsInterface);

    /// <summary>All registered names and types (for tests and diagnostics).</summary>
    public IReadOnlyDictionary<string, Type> Registry => byName;

    public string Manifest(object o) =>
        byType.TryGetValue(o.GetType(), out var name)
            ? name
            : throw new SerializationException($"{o.GetType().FullName} has no wire name registered with the nas serializer");

    /// <summary>From this size on, a payload is written into a buffer sized by its type's previous one.</summary>
    public const int LargePayload = 64 * 1024;

    private readonly ConcurrentDictionary<Type, PayloadSize> largeSizes = new();

    // What SerializeToUtf8Bytes would write with: the same bytes either way.
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = Json.Encoder, Indented = Json.WriteIndented, IndentCharacter = Json.IndentCharacter, IndentSize = Json.IndentSize,
        NewLine = Json.NewLine, SkipValidation = true,
    };

    public byte[] ToBinary(object obj)
    {
        Manifest(obj);
        var type = obj.GetType();
        if (!largeSizes.TryGetValue(type, out var size))
        {
            var bytes = JsonSerializer.SerializeToUtf8Bytes(obj, type, Json);
            if (bytes.Length >= LargePayload) largeSizes.TryAdd(type, new PayloadSize(bytes.Length));
            return bytes;
        }
        // A snapshot of a long run is tens of megabytes. The serializer's own buffer comes from the
        // shared array pool, doubling as it fills, and the pool keeps a buffer of each size per
        // thread: a coordinator's resident set grew with them. Here it is a buffer sized from the
        // previous payload and the payload copied out of it, both garbage the collector takes back.
        var buffer = new ArrayBufferWriter<byte>(size.Next);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions)) JsonSerializer.Serialize(writer, obj, type, Json);
        size.Saw(buffer.WrittenCount);
        return buffer.WrittenSpan.ToArray();
    }

    public object FromBinary(byte[] bytes, string manifest)
    {
        if (!byName.TryGetValue(manifest, out var type))
            throw new SerializationException($"unknown wire name \"{manifest}\": not a nas message or event of this version");
        // A large payload read (the snapshot a new coordinator recovers from) sizes the next one
        // written, so that not even the first goes through the shared pool.
        if (bytes.Length >= LargePayload) largeSizes.GetOrAdd(type, _ => new PayloadSize(bytes.Length));
        try
        {
            return JsonSerializer.Deserialize(bytes, type, Json)
                ?? throw new SerializationException($"{manifest}: payload is null");
        }
        catch (Exception e) when (e is JsonException or GenotypeFormatException or NotSupportedException or InvalidOperationException)
        {
            throw new SerializationException($"{manifest}: malformed payload ({e.Message})", e);
        }
    }
}
