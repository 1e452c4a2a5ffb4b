namespace NasActors.Protocol.Messages;

public enum TrainerKind
{
    Torch,
    Synthetic,
    SyntheticCurves,
    Exec,
}

/// <summary>
/// Which trainer a worker runs, parsed from its one text form: <c>torch</c>, <c>synthetic[:MS]</c>
/// (with a delay per child), <c>synthetic-curves[:MS[:RHO]]</c> (learning curves, MS per epoch,
/// rank correlation RHO between first-epoch and final accuracy) or <c>exec:COMMAND</c>. The only
/// place that text is read.
/// </summary>
public sealed record TrainerSpec(TrainerKind Kind, int DelayMs = 0, string Command = "", double Correlation = TrainerSpec.DefaultCorrelation)
{
    public const string Help = "torch, synthetic[:MS], synthetic-curves[:MS[:RHO]] or exec:COMMAND";
    public const double DefaultCorrelation = 0.7;
    private const string Curves = "synthetic-curves";

    /// <summary>The trainer <paramref name="text"/> names, or null with <paramref name="error"/> saying why not.</summary>
    public static TrainerSpec? TryParse(string text, out string error)
    {
        error = "";
        if (text == "torch") return new(TrainerKind.Torch);
        if (text == "synthetic") return new(TrainerKind.Synthetic);
        if (text.StartsWith("synthetic:", StringComparison.Ordinal) && int.TryParse(text[10..], out var ms) && ms >= 0)
            return new(TrainerKind.Synthetic, ms);
        if (text.StartsWith("exec:", StringComparison.Ordinal) && text.Length > 5) return new(TrainerKind.Exec, Command: text[5..]);
        if (text == Curves || text.StartsWith(Curves + ":", StringComparison.Ordinal)) return ParseCurves(text, out error);
        error = text == "exec:" ? "exec: needs a command, as exec:COMMAND" : $"unknown trainer \"{text}\" (expected {Help})";
        return null;
    }

    private static TrainerSpec? ParseCurves(string text, out string error)
    {
        error = "";
        var parts = text.Split(':');
        var ms = 0;
        var rho = DefaultCorrelation;
        if (parts.Length > 3
            || (parts.Length > 1 && (!int.TryParse(parts[1], out ms) || ms < 0))
            || (parts.Length > 2 && (!double.TryParse(parts[2], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out rho) || rho is < 0 or > 1)))
        {
            error = $"trainer \"{text}\": expected {Curves}[:MS[:RHO]] with MS milliseconds per epoch (0 or more) and RHO a correlation in [0, 1]";
            return null;
        }
        return new(TrainerKind.SyntheticCurves, ms, Correlation: rho);
    }

    public static TrainerSpec Parse(string text) => TryParse(text, out var error) ?? throw new ArgumentException(error);
}
