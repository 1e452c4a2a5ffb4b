using NasActors.Training;
using NasActors.Training.Data;
using NasActors.Training.Kernels;
using NasActors.Protocol;
using NasActors.Protocol.Messages;
using NasActors.Search;

namespace NasActors.Hosting;

/// <summary>
/// What would make every child fail, checked before a node starts (nas search and nas node alike):
/// each device is there, computes right, and the dataset reads where the trainer reads one.
/// </summary>
public static class Preflight
{
    /// <summary>The shared directory for checkpoints exists and takes a file: its full path.</summary>
    public static string Artifacts(string dir)
    {
        var full = Path.GetFullPath(dir);
        if (!Directory.Exists(full)) throw new InputException("--artifacts", $"{full} is not a directory");
        var probe = Path.Combine(full, $".nas-probe-{Environment.ProcessId}");
        try
        {
            File.WriteAllText(probe, "");
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputException("--artifacts", $"{full} does not take files: {e.Message}");
        }
        return full;
    }

    /// <summary>Every device exists here, whatever the trainer (an exec command is given its device too).</summary>
    public static void Devices(IReadOnlyList<string> devices)
    {
        if (devices.Count == 0) throw new InputException(TrainingInputs.Devices, "give at least one device");
        foreach (var device in devices)
        {
            try
            {
                TorchRuntime.ParseDevice(device);
            }
            catch (DeviceUnavailableException e)
            {
                throw new InputException(TrainingInputs.Devices, e.Message);
            }
        }
    }

    /// <summary>
    /// Last, once everything else holds (about half a second a device): each device's kernels
    /// against float64 where networks train; one that computes wrong on every path trains nothing
    /// here (<see cref="DeviceFaultException"/>).
    /// </summary>
    public static void Kernels(TrainerSpec trainer, IReadOnlyList<string> devices)
    {
        if (trainer.Kind != TrainerKind.Torch) return;
        foreach (var device in devices) DeviceKernels.RequireRight(device);
    }

    /// <summary>
    /// The search's and the final training's datasets, where nas reads them (the torch trainer
    /// loads them now). An exec command's dataset is its own business: it gets the text as
    /// NAS_DATASET, whatever it names (a folder of its own, a URL, "none").
    /// </summary>
    public static void Datasets(TrainerSpec trainer, SearchSettings settings, bool datasetGiven)
    {
        if (trainer.Kind == TrainerKind.Synthetic)
        {
            if (datasetGiven) throw new InputException(TrainingInputs.Dataset, "the synthetic trainer reads no dataset; leave the option out");
            return;
        }
        if (trainer.Kind != TrainerKind.Torch) return;
        // Read when a split is cut into batches, in every child: a value that cannot be read fails now, once.
        ImageDataset.StreamAboveBytes();
        var loaded = new Dictionary<(string, int?), DatasetPair>();
        foreach (var (key, spec) in new[] { ("search", settings.Search), ("final", settings.Final) })
        {
            DatasetPair data;
            try
            {
                if (!loaded.TryGetValue((spec.Dataset, spec.Image), out data!))
                    loaded[(spec.Dataset, spec.Image)] = data = DatasetSpec.Parse(spec.Dataset).Load(spec.Image);
            }
            catch (DatasetFormatException e)
            {
                // Named where the user gave it: --dataset, or a settings file's dataset key.
                throw new InputException(datasetGiven ? TrainingInputs.Dataset : Persistence.RunInputs.Config, e.Message);
            }
            // The split every child of this kind would make: one that cannot be made fails them all.
            var n = data.Train.Count;
            if (spec.ValidationSize < 1 || spec.ValidationSize >= n)
                throw new InputException($"{key}.validation_size",
                    $"{spec.ValidationSize} images held out to score each child, but {data.Train.Name} has {n} training images: give between 1 and {n - 1} ({(key == "search" ? "--validation" : "--final-validation")}, or {key}.validation_size in a settings file)");
            if (data.Train.Classes < 2)
                throw new InputException(TrainingInputs.Dataset, $"{data.Train.Name} has {data.Train.Classes} class; a search needs at least 2");
        }
    }

    public static TrainerSpec Trainer(string text) =>
        TrainerSpec.TryParse(text, out var error) ?? throw new InputException(NodeInputs.Trainer, error);
}
