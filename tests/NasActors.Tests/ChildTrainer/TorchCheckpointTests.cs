using NasActors.ChildTrainer.Workers;
using NasActors.Protocol.Messages;
using NasActors.Search;
using NasActors.SearchSpace;
using NasActors.Tests.Support;

namespace NasActors.Tests.ChildTrainer;

/// <summary>A checkpoint that cannot be written costs the checkpoint, not the child; one whose bytes changed is never resumed from.</summary>
[Collection(TorchCollection.Name)]
public class TorchCheckpointTests
{
    [Fact]
    public void A_full_disk_costs_the_checkpoint_and_the_child_trains_on()
    {
        using var dir = new TempDir();
        var folder = Directory.CreateDirectory(Path.Combine(dir.Path, "checkpoints", "0-search")).FullName;
        // The first write to the checkpoint's temporary file fails as on a full disk (ENOSPC).
        File.CreateSymbolicLink(Path.Combine(folder, "checkpoint.bin.tmp"), "/dev/full");
        var spec = new SearchSettings().Search with { Cells = 1, Filters = 4, Epochs = 2, ValidationSize = 100, TrainLimit = 200 };
        var epochs = new List<int>();

        var outcome = new TorchChildTrainer(dir.Path).Train(new TrainChild(0, NasNetA.Genotype, false, 1, 1, spec), "cpu", (e, _, _) => epochs.Add(e), CancellationToken.None);

        Assert.Null(outcome.FailureReason);
        Assert.Equal([1, 2], epochs);
        Assert.InRange(outcome.Accuracy, 0.01, 1);
        Assert.Contains("the checkpoint after epoch 1 could not be written", outcome.CheckpointProblem);
        // Its temporary file was removed (the disk had room again): the next epoch's checkpoint was written whole.
        Assert.False(File.Exists(Path.Combine(folder, "checkpoint.bin.tmp")));
        Assert.True(File.Exists(Path.Combine(folder, "checkpoint.bin")));
    }

    [Fact]
    public void A_checkpoint_with_one_byte_changed_is_not_resumed_from()
    {
        using var dir = new TempDir();
        var spec = new SearchSettings().Search with { Cells = 1, Filters = 4, Epochs = 2, ValidationSize = 100, TrainLimit = 200 };
        var job = new TrainChild(0, NasNetA.Genotype, false, 1, 1, spec);
        var trainer = new TorchChildTrainer(dir.Path);
        var path = Path.Combine(dir.Path, "checkpoints", "0-search", "checkpoint.bin");
        // Interrupted after its first epoch, as a killed worker is: the checkpoint of epoch 1 stays.
        using (var interrupt = new CancellationTokenSource())
            Assert.Throws<OperationCanceledException>(() => trainer.Train(job, "cpu", (e, _, _) => interrupt.Cancel(), interrupt.Token));
        var intact = File.ReadAllBytes(path);

        // Intact, it is resumed from.
        var resumed = trainer.Train(job, "cpu", (_, _, _) => { }, CancellationToken.None);
        Assert.Equal(1, resumed.ResumedEpochs);
        Assert.Null(resumed.CheckpointProblem);

        // One bit flipped in the weights (the middle of the file) still decodes: the checksum refuses it and the child trains from epoch 0.
        var damaged = intact.ToArray();
        damaged[damaged.Length / 2] ^= 0x10;
        File.WriteAllBytes(path, damaged);
        var epochs = new List<int>();
        var again = trainer.Train(job, "cpu", (e, _, _) => epochs.Add(e), CancellationToken.None);
        Assert.Null(again.FailureReason);
        Assert.Equal(0, again.ResumedEpochs);
        Assert.Equal([1, 2], epochs);
        Assert.Contains("damaged checkpoint (its SHA-256 does not match its content)", again.CheckpointProblem);
        // Trained from 0 with the same seed, it ends where the resumed training did.
        Assert.Equal(resumed.Accuracy, again.Accuracy);
    }
}
