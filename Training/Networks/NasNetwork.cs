using NasActors.Training.Kernels;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasActors.Training.Networks;

/// <summary>
/// A child network built from a <see cref="NetworkPlan"/>: stem, cells, optional auxiliary head,
/// classifier; its convolutions take the paths of <paramref name="kernels"/> (by default, the
/// network's own memory order: what libtorch does by itself).
/// </summary>
public sealed class NasNetwork : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> stem;
    private readonly ModuleList<CellModule> cells;
    private readonly nn.Module<Tensor, Tensor> head;
    private readonly nn.Module<Tensor, Tensor>? aux;

    public NasNetwork(NetworkPlan plan, KernelPlan? kernels = null) : base(nameof(NasNetwork))
    {
        Plan = plan;
        Kernels = kernels ?? KernelPlan.InLayout(false);
        stem = LayerModules.Build(plan.Stem, Kernels);
        cells = nn.ModuleList(plan.Cells.Select(c => new CellModule(c, Kernels)).ToArray());
        head = LayerModules.Build(plan.Head, Kernels);
        if (plan.Aux is { } a) aux = LayerModules.Build(a.Layers, Kernels);
        RegisterComponents();
    }

    public NetworkPlan Plan { get; }

    public KernelPlan Kernels { get; }

    /// <summary>
    /// ScheduledDropPath: the drop probability grows linearly with training progress (0..1) and
    /// with the cell's depth, up to 1 - <see cref="NetworkConfig.DropPathKeep"/> at the last cell.
    /// </summary>
    public void SetDropPathProgress(double progress)
    {
        var drop = 1.0 - Plan.Config.DropPathKeep;
        var total = Plan.MainCellCount;
        for (var i = 0; i < cells.Count; i++)
        {
            var position = Plan.Cells[i].Position;
            cells[i].DropPathKeep = position < 0 ? 1.0 : 1.0 - drop * Math.Clamp(progress, 0, 1) * (position + 1) / total;
        }
    }

    public override Tensor forward(Tensor x)
    {
        var (logits, auxLogits) = ForwardWithAux(x);
        auxLogits?.Dispose();
        return logits;
    }

    /// <summary>Logits, and in training mode the auxiliary head's logits when the network has one.</summary>
    public (Tensor Logits, Tensor? AuxLogits) ForwardWithAux(Tensor x)
    {
        Tensor? auxLogits = null;
        var outputs = new List<Tensor> { stem.forward(x) };
        try
        {
            for (var i = 0; i < cells.Count; i++)
            {
                var c = Plan.Cells[i];
                outputs.Add(cells[i].forward(outputs[c.InputIndex], outputs[c.PrevInputIndex]));
                if (aux is not null && training && Plan.Aux!.AfterCell == i)
                    auxLogits = aux.forward(outputs[^1]);
            }
            return (head.forward(outputs[^1]), auxLogits);
        }
        finally
        {
            // Free intermediate outputs now; autograd keeps what backward needs.
            foreach (var o in outputs) o.Dispose();
        }
    }

    public long CountParameters() => parameters().Sum(p => p.numel());
}
