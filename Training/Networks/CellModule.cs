using NasActors.Training.Kernels;
using NasActors.SearchSpace;
using NasActors.Tensors;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasActors.Training.Networks;

/// <summary>A cell driven by its <see cref="CellPlan"/>: adjust inputs, run the blocks, concatenate the outputs.</summary>
public sealed class CellModule : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly CellPlan plan;
    private readonly nn.Module<Tensor, Tensor> hiAdjust;
    private readonly nn.Module<Tensor, Tensor> prevAdjust;
    private readonly ModuleList<nn.Module<Tensor, Tensor>> ops;
    private readonly ModuleList<nn.Module<Tensor, Tensor>> outputReduce;

    public CellModule(CellPlan plan, KernelPlan kernels) : base(plan.Name)
    {
        this.plan = plan;
        hiAdjust = LayerModules.Build(plan.HiAdjust, kernels);
        prevAdjust = LayerModules.Build(plan.PrevAdjust, kernels);
        ops = nn.ModuleList(plan.Blocks.SelectMany(b => new[] { LayerModules.Build(b.A.Layers, kernels), LayerModules.Build(b.B.Layers, kernels) }).ToArray());
        outputReduce = nn.ModuleList(plan.Outputs.Select(o => LayerModules.Build(o.Reduce, kernels)).ToArray());
        RegisterComponents();
    }

    /// <summary>Keep probability for ScheduledDropPath on each op output (1 disables it).</summary>
    public double DropPathKeep { get; set; } = 1.0;

    public override Tensor forward(Tensor hi, Tensor prev)
    {
        using var scope = NewDisposeScope();
        var states = new List<Tensor> { hiAdjust.forward(hi), prevAdjust.forward(prev) };
        for (var k = 0; k < plan.Blocks.Count; k++)
        {
            var block = plan.Blocks[k];
            var a = DropPath(ops[2 * k].forward(states[block.A.Input]));
            var b = DropPath(ops[2 * k + 1].forward(states[block.B.Input]));
            states.Add(block.Combine == Combine.Add ? a.add(b, Scalars.One) : cat([a, b], 1));
        }
        var outputs = plan.Outputs.Select((o, i) => outputReduce[i].forward(states[o.State])).ToArray();
        return (outputs.Length == 1 ? outputs[0].alias() : cat(outputs, 1)).MoveToOuterDisposeScope();
    }

    private Tensor DropPath(Tensor x)
    {
        if (!training || DropPathKeep >= 1.0) return x;
        using var keep = DropPathKeep.ToScalar();
        var mask = rand([x.shape[0], 1, 1, 1], device: x.device).lt(keep).to(x.dtype);
        return x.mul(mask).div(keep);
    }
}
