namespace NasActors.Protocol;

/// <summary>What a user gives, as the layers below the command line know it; the command line says which option carries each.</summary>
public enum UserInput
{
    Run,
    Journal,
    Config,
    Host,
    Port,
    Join,
    Roles,
    Hocon,
    Tls,
    Devices,
    Dataset,
    Trainer,
}

/// <summary>
/// The user's input is wrong: the one error that means "exit 2, fix what you gave". A layer below
/// the command line names the <see cref="UserInput"/>; the command line names its option, a
/// variable or a setting as the user wrote it. A bug is never this (it is an <see cref="InvalidOperationException"/>).
/// </summary>
public sealed class InputException : Exception
{
    public InputException(UserInput input, string problem)
        : base($"{input.ToString().ToLowerInvariant()}: {problem}")
    {
        Input = input;
        Problem = problem;
    }

    /// <param name="name">The option, variable or setting as the user wrote it (<c>--port</c>, <c>NAS_CPU_KERNELS</c>).</param>
    public InputException(string name, string problem)
        : base($"{name}: {problem}")
    {
        Name = name;
        Problem = problem;
    }

    /// <summary>The input as a whole is wrong (a run's settings, layered from its file and the options).</summary>
    public InputException(string problem)
        : base(problem)
    {
        Problem = problem;
    }

    public UserInput? Input { get; }

    public string? Name { get; }

    public string Problem { get; }
}
