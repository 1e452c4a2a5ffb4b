using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasActors.Tensors;

/// <summary>
/// SGD with momentum and weight decay, as PyTorch's <c>torch.optim.SGD</c> (no dampening, no
/// Nesterov): d = g + wd·p; buf = m·buf + d; p -= lr·buf.
/// </summary>
public sealed class Sgd(IEnumerable<Parameter> parameters, double learningRate, double momentum, double weightDecay)
    : Optimizer(parameters, learningRate, stateTensorsPerParameter: 1)
{
    private readonly Scalar momentumScalar = momentum.ToScalar();
    private readonly Scalar weightDecayScalar = weightDecay.ToScalar();

    protected override void Update(Parameter parameter, Tensor grad, Tensor[] state)
    {
        var d = weightDecay != 0 ? grad.add(parameter, weightDecayScalar) : grad;
        var buffer = state[0];
        if (momentum != 0)
        {
            // The buffer starts at zero, so the first step gives exactly d, as PyTorch's copy does.
            buffer.mul_(momentumScalar).add_(d, Scalars.One);
            d = buffer;
        }
        using var step = (-LearningRate).ToScalar();
        parameter.add_(d, step);
    }
}
