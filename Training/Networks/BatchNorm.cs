using NasActors.Tensors;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasActors.Training.Networks;

/// <summary>
/// Batch normalization as <c>nn.BatchNorm2d</c> computes it, with its parameter and buffer names
/// (checkpoints unchanged), but not its forward: TorchSharp 0.107 steps <c>num_batches_tracked</c>
/// with <c>add_(1)</c>, an implicit <c>Scalar</c> its finalizer may free while libtorch reads it
/// (seen here: "For integral input tensors, argument alpha must not be a floating point number").
/// </summary>
internal sealed class BatchNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter bias;
    private readonly Tensor running_mean;
    private readonly Tensor running_var;
    private readonly Tensor num_batches_tracked;
    private readonly double eps;
    private readonly double momentum;

    public BatchNorm(long features, double eps, double momentum) : base(nameof(BatchNorm))
    {
        // nn.BatchNorm2d's own initial values, dtypes and device.
        using (var init = nn.BatchNorm2d(features, eps: eps, momentum: momentum))
        {
            weight = new Parameter(init.weight!.detach().clone());
            bias = new Parameter(init.bias!.detach().clone());
            running_mean = init.running_mean!.detach().clone();
            running_var = init.running_var!.detach().clone();
            num_batches_tracked = init.num_batches_tracked!.detach().clone();
        }
        (this.eps, this.momentum) = (eps, momentum);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        if (training) num_batches_tracked.add_(Scalars.OneInteger, Scalars.OneInteger);
        return nn.functional.batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps);
    }
}
