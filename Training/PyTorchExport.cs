using NasActors.Training.Networks;
using NasActors.Protocol;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace NasActors.Training;

/// <summary>
/// A network for PyTorch: <c>model.py</c> (<see cref="PyTorchSource"/>) and, for a trained one,
/// <c>model.pt</c>, its state dict (parameters and batch-norm statistics, float32, on the CPU) as
/// <c>torch.save</c> writes one, written by TorchSharp.PyBridge.
/// </summary>
public static class PyTorchExport
{
    public const string ModuleFile = "model.py";
    public const string WeightsFile = "model.pt";

    /// <summary>Writes model.py and model.pt into <paramref name="dir"/>.</summary>
    public static void Write(string dir, NasNetwork trained, Preprocessing pre, string title)
    {
        Directory.CreateDirectory(dir);
        AtomicFile.WriteAllText(Path.Combine(dir, ModuleFile), PyTorchSource.Generate(trained.Plan, pre, title));
        // A copy on the CPU in float32, whatever device and precision it trained in.
        using var scope = NewDisposeScope();
        using var copy = new NasNetwork(trained.Plan);
        var state = trained.state_dict().ToDictionary(
            p => p.Key,
            p => p.Value.is_floating_point() ? p.Value.detach().to(CPU).to_type(float32) : p.Value.detach().to(CPU));
        copy.load_state_dict(state, strict: true);
        AtomicFile.Write(Path.Combine(dir, WeightsFile), temp => copy.save_py(temp));
    }
}
