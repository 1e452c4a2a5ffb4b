using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasActors.Tensors;

/// <summary>
/// Adam as PyTorch's <c>torch.optim.Adam</c> (no weight decay, no AMSGrad): m = β1·m + (1-β1)·g;
/// v = β2·v + (1-β2)·g²; p -= lr/(1-β1^t) · m / (sqrt(v)/sqrt(1-β2^t) + ε).
/// </summary>
public sealed class Adam(IEnumerable<Parameter> parameters, double learningRate, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8)
    : Optimizer(parameters, learningRate, stateTensorsPerParameter: 2)
{
    private readonly Scalar beta1Scalar = beta1.ToScalar();
    private readonly Scalar oneMinusBeta1 = (1 - beta1).ToScalar();
    private readonly Scalar beta2Scalar = beta2.ToScalar();
    private readonly Scalar oneMinusBeta2 = (1 - beta2).ToScalar();
    private readonly Scalar epsilonScalar = epsilon.ToScalar();

    protected override void Update(Parameter parameter, Tensor grad, Tensor[] state)
    {
        var (mean, square) = (state[0], state[1]);
        mean.mul_(beta1Scalar).add_(grad, oneMinusBeta1);
        square.mul_(beta2Scalar).addcmul_(grad, grad, oneMinusBeta2);
        var correction1 = 1 - Math.Pow(beta1, Steps);
        var correction2 = 1 - Math.Pow(beta2, Steps);
        using var root = (1 / Math.Sqrt(correction2)).ToScalar();
        using var stepSize = (-LearningRate / correction1).ToScalar();
        var denominator = square.sqrt().mul_(root).add_(epsilonScalar, Scalars.One);
        parameter.addcdiv_(mean, denominator, stepSize);
    }
}
