using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasActors.Tensors;

/// <summary>
/// A first-order optimizer over a fixed list of parameters whose every Scalar outlives its native
/// call (TorchSharp's own optimizers make theirs on the fly, see <see cref="Scalars"/>). State is
/// saved and loaded as raw tensors, in parameter order, so a checkpoint resumes bit for bit.
/// </summary>
public abstract class Optimizer : IDisposable
{
    private readonly List<Tensor[]> state = new();

    protected Optimizer(IEnumerable<Parameter> parameters, double learningRate, int stateTensorsPerParameter)
    {
        Parameters = parameters.ToArray();
        LearningRate = learningRate;
        foreach (var p in Parameters)
            state.Add(Enumerable.Range(0, stateTensorsPerParameter).Select(_ => zeros_like(p).DetachFromDisposeScope()).ToArray());
    }

    public IReadOnlyList<Parameter> Parameters { get; }

    public double LearningRate { get; set; }

    /// <summary>Updates taken so far (Adam's bias correction needs it; saved with the state).</summary>
    public long Steps { get; private set; }

    public void ZeroGrad()
    {
        // The gradient's wrapper is held until zero_ returns: an unreferenced one may be finalized mid-call.
        foreach (var p in Parameters)
        {
            using var grad = p.grad;
            grad?.zero_();
        }
    }

    public void Step()
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Steps++;
        for (var i = 0; i < Parameters.Count; i++)
            if (Parameters[i].grad is { } grad)
                Update(Parameters[i], grad, state[i]);
    }

    /// <summary>One parameter's update from its gradient and its own state tensors (updated in place).</summary>
    protected abstract void Update(Parameter parameter, Tensor grad, Tensor[] state);

    public void Save(BinaryWriter writer)
    {
        writer.Write(Steps);
        foreach (var tensors in state)
            foreach (var t in tensors)
                t.Save(writer);
    }

    public void Load(BinaryReader reader)
    {
        Steps = reader.ReadInt64();
        foreach (var tensors in state)
            foreach (var t in tensors)
                t.Load(reader);
    }

    public void Dispose()
    {
        foreach (var tensors in state)
            foreach (var t in tensors)
                t.Dispose();
        GC.SuppressFinalize(this);
    }
}
