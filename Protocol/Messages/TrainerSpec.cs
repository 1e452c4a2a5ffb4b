namespace NasActors.Protocol.Messages;

public enum TrainerKind
{
    Torch,
    Synthetic,
    Exec,
}

/// <summary>
/// Which trainer a worker runs, parsed from its one text form: <c>torch</c>, <c>synthetic[:MS]</c>
/// (with a delay per child) or <c>exec:COMMAND</c>. The only place that text is read.
/// </summary>
public sealed record TrainerSpec(TrainerKind Kind, int DelayMs = 0, string Command = "")
{
    public const string Help = "torch, synthetic[:MS] or exec:COMMAND";

    /// <summary>The trainer <paramref name="text"/> names, or null with <paramref name="error"/> saying why not.</summary>
    public static TrainerSpec? TryParse(string text, out string error)
    {
        error = "";
        if (text == "torch") return new(TrainerKind.Torch);
        if (text == "synthetic") return new(TrainerKind.Synthetic);
        if (text.StartsWith("synthetic:", StringComparison.Ordinal) && int.TryParse(text[10..], out var ms) && ms >= 0)
            return new(TrainerKind.Synthetic, ms);
        if (text.StartsWith("exec:", StringComparison.Ordinal) && text.Length > 5) return new(TrainerKind.Exec, Command: text[5..]);
        error = text == "exec:" ? "exec: needs a command, as exec:COMMAND" : $"unknown trainer \"{text}\" (expected {Help})";
        return null;
    }

    public static TrainerSpec Parse(string text) => TryParse(text, out var error) ?? throw new ArgumentException(error);
}
