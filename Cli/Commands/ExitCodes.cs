namespace NasActors.Cli.Commands;

/// <summary>Exit codes shared by every subcommand.</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>A file could not be read, or another environmental failure.</summary>
    public const int Unreadable = 1;

    /// <summary>The input was read but is invalid (malformed genotype, bad configuration).</summary>
    public const int Invalid = 2;

    /// <summary>Training ran but the child failed (NaN loss, out of memory, bad checkpoint).</summary>
    public const int TrainingFailed = 3;

    /// <summary>A bug in nas (an invariant broke): never the user's input.</summary>
    public const int Internal = 70;

    /// <summary>Stopped by Ctrl-C; whatever was checkpointed is kept.</summary>
    public const int Interrupted = 130;

    public static int Fail(int code, string message)
    {
        Console.Error.WriteLine($"nas: error: {message}");
        return code;
    }
}
