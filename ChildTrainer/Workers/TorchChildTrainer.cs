using System.Collections.Concurrent;
using NasActors.Training.Data;
using NasActors.Training.Networks;
using NasActors.Training;
using NasActors.Protocol.Messages;
using NasActors.Tensors;

namespace NasActors.ChildTrainer.Workers;

/// <summary>
/// Trains the child network in TorchSharp; the reward is its validation accuracy. With an
/// <paramref name="artifacts"/> folder, each training keeps its state after every epoch under
/// <c>checkpoints/</c> (one folder per child and training), so a child requeued after a crash
/// resumes from its last epoch, drawing what the uninterrupted training would (the folder goes
/// when its outcome is stored); and each final training keeps its trained network for PyTorch
/// under <c>finalists/CHILD</c> (<see cref="PyTorchExport"/>: model.py, model.pt).
/// </summary>
public sealed class TorchChildTrainer(string? artifacts = null) : IChildTrainer
{
    /// <summary>Where a final training's trained network is kept, under a run's artifacts (a folder run's are its folder).</summary>
    public static string FinalistFolder(string artifacts, long childId) => Path.Combine(artifacts, "finalists", $"{childId}");

    /// <summary>Where the children's checkpoints are, under a run's artifacts: one folder per child and training, deleted when its outcome is stored.</summary>
    public static string CheckpointFolder(string artifacts) => Path.Combine(artifacts, "checkpoints");

    // Datasets load once per process, whichever worker asks first.
    private static readonly ConcurrentDictionary<(string, int, int?, int?), Lazy<DataSplits>> Data = new();

    // The precisions and memory orders this worker has trained in, with the paths its last check chose: what a check proves again.
    private readonly ConcurrentDictionary<(Tensors.Precision, bool ChannelsLast), Training.Kernels.KernelPlan?> used = new([new((Tensors.Precision.Fp32, false), null)]);

    public string? CheckDevice(string device, bool again)
    {
        using var native = NativeWork.Enter();
        var d = TorchRuntime.ParseDevice(device);
        foreach (var (key, before) in used.ToArray())
        {
            var check = Training.Kernels.DeviceKernels.Check(d, key.Item1, key.ChannelsLast, again);
            if (!check.Healthy) return check.Problem;
            used[key] = check.Plan;
            // A path the last check chose, found wrong now: the child training now may be using it.
            if (before is not null && check.Results.FirstOrDefault(r => !r.Right && r.Case.Conv is { } c && r.Path == before.For(c.Kind)) is { } wrong)
                return $"{d}: {wrong.Case.Family} computes wrong on path {Training.Kernels.KernelPlan.Name(wrong.Path!.Value)}, which the child in training may use ({wrong.Case}: {wrong.Wrong})";
        }
        return null;
    }

    public TrainOutcome Train(TrainChild job, string device, Action<int, int, double?> progress, CancellationToken cancel)
    {
        using var native = NativeWork.Enter();
        var spec = job.Spec;
        var dataKey = (spec.Dataset, spec.ValidationSize, spec.TrainLimit, spec.Image);
        DataSplits splits;
        try
        {
            splits = Data.GetOrAdd(dataKey, key => new Lazy<DataSplits>(() =>
                DataSplits.Create(DatasetSpec.Parse(key.Item1).Load(key.Item4), key.Item2, key.Item3, seed: 0))).Value;
        }
        catch (Exception e)
        {
            // A failed load is not remembered: a folder put right is read again by the next child.
            Data.TryRemove(dataKey, out _);
            if (e is DatasetFormatException) return TrainOutcome.Failure($"dataset: {e.Message}");
            throw;
        }
        var train = splits.Train;
        var plan = NetworkPlan.Create(new NetworkConfig(job.Genotype, spec.Cells, spec.Filters, train.Classes, train.Channels, train.Height,
            NetworkConfig.StemFor(train.Height), DropPathKeep: spec.DropPathKeep));
        var config = new TrainingConfig
        {
            Epochs = spec.Epochs, BatchSize = spec.BatchSize, LearningRate = spec.LearningRate, Seed = job.Seed,
            Augment = Augmentation.Parse(spec.Augment), Precision = Tensors.Precisions.Parse(spec.Precision), ChannelsLast = spec.ChannelsLast, CudnnBenchmark = spec.CudnnBenchmark,
            // Early stopping judges a child at its rungs only: the epochs between need no validation pass.
            ValidateAt = job.Rungs?.ToHashSet(),
        };
        used.TryAdd((config.Precision, config.ChannelsLast), null);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(TimeSpan.FromSeconds(spec.TimeoutSeconds));
        var dir = Folder(job.ChildId, job.Final);
        string? problem = null, unsaved = null, weights = null;
        try
        {
            TrainingResult r;
            try
            {
                r = Train(dir);
            }
            catch (TrainingFailedException e) when (e.Kind == FailureKind.Checkpoint && dir is not null)
            {
                // Damaged, half written or of another network or settings: never resumed from; the child starts again.
                problem = $"its checkpoint was not resumed from, it trained from epoch 0: {e.Message}";
                Directory.Delete(dir, recursive: true);
                r = Train(dir);
            }
            return new TrainOutcome(r.ValidationAccuracy, r.TestAccuracy, r.FinalTrainLoss, r.Parameters, r.MultAdds, r.Seconds)
            {
                ResumedEpochs = r.ResumedEpochs, CheckpointProblem = r.CheckpointProblem ?? problem ?? unsaved, Weights = weights,
            };
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            return TrainOutcome.Failure($"timed out after {spec.TimeoutSeconds} s");
        }
        catch (TrainingFailedException e)
        {
            return TrainOutcome.Failure($"{e.Kind}: {e.Message}");
        }
        catch (DatasetFormatException e)
        {
            // A read that failed mid-training (the cache file cut short, a failing disk): the dataset is read anew by the next child.
            Data.TryRemove(dataKey, out _);
            return TrainOutcome.Failure($"dataset: {e.Message}");
        }
        catch (Training.Kernels.DeviceFaultException e)
        {
            return TrainOutcome.Faulty(e.Message);
        }

        TrainingResult Train(string? checkpointDir) => ChildTraining.Train(plan, splits, config, TorchRuntime.ParseDevice(device),
            e => progress(e.Epoch, e.Epochs, double.IsNaN(e.ValidationAccuracy) ? null : e.ValidationAccuracy), checkpointDir, evaluateTest: job.Final,
            cancel: timeout.Token, trained: job.Final && artifacts is not null ? Keep : null);

        // A finalist's trained network is kept; writing it failing costs the weights, not the training.
        void Keep(NasNetwork model, Preprocessing pre)
        {
            try
            {
                var folder = Path.GetFullPath(FinalistFolder(artifacts!, job.ChildId));
                PyTorchExport.Write(folder, model, pre, $"child {job.ChildId}'s final training ({spec.Cells}@{spec.Filters}, {spec.Epochs} epochs on {spec.Dataset})");
                weights = folder;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                unsaved = $"its trained network could not be kept in {FinalistFolder(artifacts!, job.ChildId)}: {e.Message}";
            }
        }
    }

    public void Forget(long childId, bool final)
    {
        if (Folder(childId, final) is { } dir && Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
    }

    private string? Folder(long childId, bool final) => artifacts is null ? null : Path.Combine(CheckpointFolder(artifacts), $"{childId}-{(final ? "final" : "search")}");
}
