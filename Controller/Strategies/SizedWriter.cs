using System.Text;

namespace NasActors.Controller.Strategies;

/// <summary>
/// Writes one kind of payload (a policy's weights, a strategy's state) into a buffer sized by its
/// previous write. Such payloads keep their size, and a megabyte written through a growing
/// stream leaves four doubled buffers and a copy in the large-object heap each time: a policy
/// update writes two, so a long run's coordinator grew its resident set with that garbage.
/// Safe to call from several threads (the size is only a hint).
/// </summary>
public sealed class SizedWriter
{
    private int size = 4096;

    public byte[] Write(Action<BinaryWriter> write)
    {
        var stream = new MemoryStream(Volatile.Read(ref size));
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true)) write(writer);
        Volatile.Write(ref size, (int)stream.Length);
        // The same size as last time: the buffer is the payload, no copy.
        return stream.Length == stream.Capacity ? stream.GetBuffer() : stream.ToArray();
    }
}
