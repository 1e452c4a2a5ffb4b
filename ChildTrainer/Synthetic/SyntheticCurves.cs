using NasActors.SearchSpace;

namespace NasActors.ChildTrainer.Synthetic;

/// <summary>
/// Learning curves for the synthetic objective, to measure early stopping: a child's final
/// accuracy is <see cref="SyntheticObjective.Accuracy"/>; its first epoch's standing among
/// children has rank correlation about <see cref="Correlation"/> with its final one (Zela et al.
/// 2018 found little between short and long training; 1 means early ranks are final ranks). Per
/// child, deterministic from the genotype: an early quality mixed from its final one and an
/// independent draw, a speed at which it moves from the one to the other, and epoch noise.
/// </summary>
public sealed class SyntheticCurves(double correlation)
{
    // The objective's mean and spread over uniformly sampled NASNet architectures (10,000 of
    // them; SyntheticCurvesTests measures both again and the correlation they give).
    public const double Mean = 0.7819;
    public const double Spread = 0.0232;

    // How far below its final accuracy the average child starts.
    private const double EarlyGap = 0.25;

    public double Correlation { get; } = correlation;

    /// <summary>Validation accuracy after <paramref name="epoch"/> of <paramref name="epochs"/>; at the last, the objective's own value.</summary>
    public double Accuracy(Genotype genotype, int epoch, int epochs, long seed = 0)
    {
        var final = SyntheticObjective.Accuracy(genotype, seed);
        if (epoch >= epochs) return final;
        var key = GenotypeJson.Write(genotype, indented: false);
        var zFinal = (final - Mean) / Spread;
        var zEarly = Correlation * zFinal + Math.Sqrt(1 - Correlation * Correlation) * Normal(key, seed, 1);
        // Speed in [0.5, 2]: how soon the child's standing turns into its final one.
        var speed = Math.Pow(2, 2 * Uniform(key, seed, 3) - 1);
        var t = (epoch - 1.0) / (epochs - 1.0);
        var w = Math.Pow(t, speed);
        var noise = 0.002 * (1 - w) * Normal(key, seed, 4 + epoch);
        // Every child rises on the same schedule; only its standing among them moves at its own speed.
        return Math.Clamp(Mean - EarlyGap * (1 - t) * (1 - t) + Spread * ((1 - w) * zEarly + w * zFinal) + noise, 0, 1);
    }

    private static double Uniform(string key, long seed, int salt) =>
        (SyntheticObjective.StableHash(key, seed * 7919 + salt) % 1_000_000 + 0.5) / 1_000_000.0;

    /// <summary>A standard normal draw (Box-Muller), stable per key and salt.</summary>
    private static double Normal(string key, long seed, int salt) =>
        Math.Sqrt(-2 * Math.Log(Uniform(key, seed, salt * 2))) * Math.Cos(2 * Math.PI * Uniform(key, seed, salt * 2 + 1));
}
