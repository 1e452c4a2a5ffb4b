using NasActors.ChildTrainer.Workers;
using NasActors.Protocol.Messages;
using NasActors.Search;
using NasActors.SearchSpace;
using NasActors.Tests.Support;

namespace NasActors.Tests.ChildTrainer;

/// <summary>A checkpoint that cannot be written costs the checkpoint, not the child.</summary>
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
}
