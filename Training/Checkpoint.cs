using System.Text;
using System.Text.Json;
using NasActors.Training.Networks;
using static TorchSharp.torch;

namespace NasActors.Training;

/// <summary>
/// The state after an epoch (weights, optimizer state, history), written atomically so that an
/// interrupted training resumes from the last finished epoch. A fingerprint of the network and
/// training configuration guards against resuming a different child.
/// </summary>
internal static class Checkpoint
{
    // 2: optimizer state in NasActors.Tensors form.
    private const string Magic = "NASCKPT2";
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
            using (var writer = new BinaryWriter(stream, Encoding.UTF8))
            {
                writer.Write(Magic);
                writer.Write(fingerprint);
                writer.Write(JsonSerializer.Serialize(history));
                writer.Write(seconds);
                model.save(writer);
                optimizer.Save(writer);
                // bf16/fp16: the fp32 weights the rounded model came from (the fingerprint names the precision).
                master?.Save(writer);
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
            if (reader.ReadString() != Magic)
                throw new TrainingFailedException(FailureKind.Checkpoint, $"{path}: not a nas checkpoint of this version");
            if (reader.ReadString() != fingerprint)
                throw new TrainingFailedException(FailureKind.Checkpoint,
                    $"{path}: checkpoint belongs to a different network or training configuration; remove it or use another --out folder");
            var history = JsonSerializer.Deserialize<List<EpochReport>>(reader.ReadString()) ?? [];
            var seconds = reader.ReadDouble();
            model.load(reader);
            optimizer.Load(reader);
            master?.Load(reader);
            return (history, seconds);
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or JsonException or ArgumentException or System.Runtime.InteropServices.ExternalException)
        {
            throw new TrainingFailedException(FailureKind.Checkpoint, $"{path}: unreadable checkpoint ({e.Message})", e);
        }
    }
}
