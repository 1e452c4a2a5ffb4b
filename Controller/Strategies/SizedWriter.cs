using System.Text;
using NasActors.Protocol;

namespace NasActors.Controller.Strategies;

/// <summary>
/// Writes one kind of payload (a policy's weights, a strategy's state) into a buffer sized from
/// the ones before (<see cref="PayloadSize"/>). A megabyte written through a growing stream
/// leaves four doubled buffers and a copy in the large-object heap each time, and a policy update
/// writes the weights twice: a long run's coordinator grew its resident set with that garbage.
/// A payload of fixed size (the weights) is then one buffer and no copy; one that varies (the
/// strategy's state) one buffer and its copy.
/// </summary>
public sealed class SizedWriter
{
    private readonly PayloadSize size = new();

    public byte[] Write(Action<BinaryWriter> write)
    {
        var stream = new MemoryStream(size.Next);
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true)) write(writer);
        size.Saw((int)stream.Length);
        return stream.Length == stream.Capacity ? stream.GetBuffer() : stream.ToArray();
    }
}
