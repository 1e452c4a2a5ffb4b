using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasActors.Tensors;

/// <summary>The number format a network trains in: its weights, activations and gradients.</summary>
public enum Precision
{
    Fp32,
    Bf16,
    Fp16,
}

public static class Precisions
{
    public const string Help = "fp32, bf16 or fp16";

    public static Precision Parse(string? name) => name switch
    {
        null or "fp32" => Precision.Fp32,
        "bf16" => Precision.Bf16,
        "fp16" => Precision.Fp16,
        _ => throw new ArgumentException($"unknown precision \"{name}\" (expected {Help})"),
    };

    public static string Name(this Precision precision) => precision.ToString().ToLowerInvariant();

    public static ScalarType ScalarType(this Precision precision) => precision switch
    {
        Precision.Bf16 => torch.ScalarType.BFloat16,
        Precision.Fp16 => torch.ScalarType.Float16,
        _ => torch.ScalarType.Float32,
    };
}

/// <summary>
/// Low-precision training with fp32 master weights (TorchSharp has no autocast): the model's
/// parameters are bf16 or fp16 and carry the forward and backward passes; the optimizer updates
/// fp32 copies of them, which are written back after each step, so small updates are not lost
/// to rounding. fp16 also scales the loss (dynamic loss scaling, as PyTorch's GradScaler): a
/// step whose gradients overflow is skipped and the scale halved; 2,000 good steps double it.
/// </summary>
public sealed class MasterWeights : IDisposable
{
    private const int GrowthInterval = 2000;
    private readonly Parameter[] model;
    private readonly bool scaled;
    private int goodSteps;

    public MasterWeights(IEnumerable<Parameter> modelParameters, Precision precision)
    {
        if (precision == Precision.Fp32) throw new InvalidOperationException("fp32 training needs no master weights");
        model = modelParameters.ToArray();
        using var noGrad = no_grad();
        Masters = model.Select(p => new Parameter(p.detach().to_type(float32).clone().DetachFromDisposeScope())).ToArray();
        scaled = precision == Precision.Fp16;
        LossScale = scaled ? 65536.0 : 1.0;
    }

    /// <summary>The fp32 parameters the optimizer updates.</summary>
    public IReadOnlyList<Parameter> Masters { get; }

    public double LossScale { get; private set; }

    /// <summary>Steps skipped because their gradients overflowed (fp16).</summary>
    public long SkippedSteps { get; private set; }

    /// <summary>The loss to differentiate: scaled for fp16.</summary>
    public Tensor Scale(Tensor loss)
    {
        if (!scaled) return loss;
        using var s = LossScale.ToScalar();
        return loss.mul(s);
    }

    /// <summary>
    /// Moves the model's gradients, unscaled, to the master weights; false when one overflowed
    /// (the step must be skipped). Call inside the step's dispose scope.
    /// </summary>
    public bool Unscale()
    {
        using var noGrad = no_grad();
        using var inverse = (1.0 / LossScale).ToScalar();
        var sums = new List<Tensor>();
        for (var i = 0; i < model.Length; i++)
        {
            if (model[i].grad is not { } g) continue;
            var grad = g.to_type(float32);
            if (scaled) grad = grad.mul(inverse);
            Masters[i].grad = grad;
            if (scaled) sums.Add(grad.sum());
        }
        if (!scaled) return true;
        // One check for all gradients: a sum is finite only if every term is.
        if (sums.Count > 0 && !stack(sums).sum().isfinite().item<bool>())
        {
            LossScale /= 2;
            goodSteps = 0;
            SkippedSteps++;
            return false;
        }
        if (++goodSteps == GrowthInterval)
        {
            LossScale *= 2;
            goodSteps = 0;
        }
        return true;
    }

    /// <summary>Writes the updated master weights back into the model, rounded to its precision.</summary>
    public void CopyBack()
    {
        using var noGrad = no_grad();
        for (var i = 0; i < model.Length; i++) model[i].copy_(Masters[i]);
    }

    public void Save(BinaryWriter writer)
    {
        writer.Write(LossScale);
        writer.Write(goodSteps);
        foreach (var m in Masters) m.Save(writer);
    }

    public void Load(BinaryReader reader)
    {
        LossScale = reader.ReadDouble();
        goodSteps = reader.ReadInt32();
        foreach (var m in Masters) m.Load(reader);
        CopyBack();
    }

    public void Dispose()
    {
        foreach (var m in Masters) m.Dispose();
    }
}
