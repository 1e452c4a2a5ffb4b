using NasActors.ChildTrainer;
using NasActors.ChildTrainer.Data;
using NasActors.ChildTrainer.Kernels;
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
    /// <summary>Every device exists here, whatever the trainer (an exec command is given its device too).</summary>
    public static void Devices(IReadOnlyList<string> devices)
    {
        if (devices.Count == 0) throw new InputException(UserInput.Devices, "give at least one device");
        foreach (var device in devices)
        {
            try
            {
                TorchRuntime.ParseDevice(device);
            }
            catch (DeviceUnavailableException e)
            {
                throw new InputException(UserInput.Devices, e.Message);
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
            if (datasetGiven) throw new InputException(UserInput.Dataset, "the synthetic trainer reads no dataset; leave the option out");
            return;
        }
        if (trainer.Kind != TrainerKind.Torch) return;
        foreach (var (spec, image) in new[] { (settings.Search.Dataset, settings.Search.Image), (settings.Final.Dataset, settings.Final.Image) }.Distinct())
        {
            try
            {
                DatasetSpec.Parse(spec).Load(image);
            }
            catch (DatasetFormatException e)
            {
                throw new InputException(UserInput.Dataset, e.Message);
            }
        }
    }

    public static TrainerSpec Trainer(string text) =>
        TrainerSpec.TryParse(text, out var error) ?? throw new InputException(UserInput.Trainer, error);
}
