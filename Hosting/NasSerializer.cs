using Akka.Actor;
using Akka.Serialization;
using NasActors.Evaluator;
using NasActors.Persistence;
using NasActors.Protocol;

namespace NasActors.Hosting;

/// <summary>
/// The one Akka serializer for everything that crosses nodes or is stored (cluster.hocon binds
/// <see cref="IWireMessage"/> to it): the <see cref="WireFormat"/> of <see cref="Types"/>.
/// </summary>
public sealed class NasSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int Id = 4271;

    /// <summary>The one list of what nodes send and store: the roles' messages, the coordinator's journal, the evaluator's snapshots.</summary>
    public static readonly IReadOnlyList<Type> Types =
        [.. WireFormat.TypesIn(typeof(IWireMessage).Assembly), .. JournalFormat.Types, .. WireFormat.TypesIn(typeof(ILeaderboardSnapshot).Assembly)];

    public static readonly WireFormat Format = new(Types);

    public override int Identifier => Id;

    public IReadOnlyDictionary<string, Type> Registry => Format.Registry;

    public override string Manifest(object o) => Format.Manifest(o);

    public override byte[] ToBinary(object obj) => Format.ToBinary(obj);

    public override object FromBinary(byte[] bytes, string manifest) => Format.FromBinary(bytes, manifest);
}
