using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using NasActors.Training.Networks;
using static TorchSharp.torch;

namespace NasActors.Training;

/// <summary>
/// The state after an epoch (weights, optimizer state, history), written atomically so that an
/// interrupted training resumes from the last finished epoch. A fingerprint of the network and
/// training configuration guards against resuming a different child; a SHA-256 of everything
/// before it, the file's last bytes, against resuming one whose bytes changed (a bit flipped on
/// disk or in a copy still decodes as weights).
/// </summary>
internal static class Checkpoint
{
    // 2: optimizer state in NasActors.Tensors form; 3: a SHA-256 of the content at the end.
    private const string Magic = "NASCKPT3";
    private const int HashBytes = SHA256.HashSizeInBytes;
    public const string FileName = "checkpoint.bin";

    public static string Fingerprint(NetworkPlan plan, TrainingConfig config, int trainImages) =>
        JsonSerializer.Serialize(new
        {
            genotype = SearchSpace.GenotypeJson.Write(plan.Config.Genotype, indented: false),
            network = plan.Config with { Genotype = SearchSpace.NasNetA.Genotype },
            config,
            trainImages,
        });

    public static void Save(string dir, string fingerprint, IReadOnlyList<EpochReport> history, double seconds, nn.Module model, Tensors.Optimizer optimizer,
        Tensors.MasterWeights? master = null)
    {
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, FileName);
        var temp = path + ".tmp";
        try
        {
            using (var stream = File.Create(temp))
            using (var sha = SHA256.Create())
            {
                // The content passes through the hash on its way to the file.
                using (var hashed = new CryptoStream(stream, sha, CryptoStreamMode.Write, leaveOpen: true))
                using (var writer = new BinaryWriter(hashed, Encoding.UTF8))
                {
                    writer.Write(Magic);
                    writer.Write(fingerprint);
                    writer.Write(JsonSerializer.Serialize(history));
                    writer.Write(seconds);
                    model.save(writer);
                    optimizer.Save(writer);
                    // bf16/fp16: the fp32 weights the rounded model came from (the fingerprint names the precision).
                    master?.Save(writer);
                }
                stream.Write(sha.Hash);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch (IOException)
        {
            // A full disk leaves no half file behind; the last complete checkpoint stays.
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>Loads into <paramref name="model"/> and <paramref name="optimizer"/>; null when there is no checkpoint.</summary>
    public static (List<EpochReport> History, double Seconds)? Load(string dir, string fingerprint, nn.Module model, Tensors.Optimizer optimizer,
        Tensors.MasterWeights? master = null)
    {
        var path = Path.Combine(dir, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            using var stream = File.OpenRead(path);
            using var reader = new BinaryReader(stream, Encoding.UTF8);
            // The version first: an older checkpoint is said to be one, not damaged.
            if (reader.ReadString() != Magic)
                throw new TrainingFailedException(FailureKind.Checkpoint, $"{path}: not a nas checkpoint of this version");
            if (!Intact(stream))
                throw new TrainingFailedException(FailureKind.Checkpoint, $"{path}: damaged checkpoint (its SHA-256 does not match its content)");
            if (reader.ReadString() != fingerprint)
                throw new TrainingFailedException(FailureKind.Checkpoint,
                    $"{path}: checkpoint belongs to a different network or training configuration; remove it or use another --out folder");
            var history = JsonSerializer.Deserialize<List<EpochReport>>(reader.ReadString()) ?? [];
            var seconds = reader.ReadDouble();
            model.load(reader);
            optimizer.Load(reader);
            master?.Load(reader);
            if (stream.Position != stream.Length - HashBytes)
                throw new TrainingFailedException(FailureKind.Checkpoint, $"{path}: unreadable checkpoint ({stream.Length - HashBytes - stream.Position} bytes left over)");
            return (history, seconds);
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or JsonException or ArgumentException or System.Runtime.InteropServices.ExternalException)
        {
            throw new TrainingFailedException(FailureKind.Checkpoint, $"{path}: unreadable checkpoint ({e.Message})", e);
        }
    }

    /// <summary>Whether the stream's last bytes are the SHA-256 of those before them; leaves it where it was.</summary>
    private static bool Intact(FileStream stream)
    {
        var at = stream.Position;
        if (stream.Length < HashBytes) return false;
        stream.Position = 0;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        for (var left = stream.Length - HashBytes; left > 0;)
        {
            var n = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
            if (n == 0) return false;
            hash.AppendData(buffer, 0, n);
            left -= n;
        }
        var stored = new byte[HashBytes];
        stream.ReadExactly(stored);
        stream.Position = at;
        return hash.GetHashAndReset().AsSpan().SequenceEqual(stored);
    }
}
