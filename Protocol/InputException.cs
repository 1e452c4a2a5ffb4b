namespace NasActors.Protocol;

/// <summary>
/// Something a user gives, by the name the command line knows it under (<c>run</c> is <c>--run</c>).
/// Each room names the inputs it reads (<c>RunInputs</c>, <c>TrainingInputs</c>, <c>NodeInputs</c>):
/// this room knows none of them.
/// </summary>
public readonly record struct UserInput(string Name)
{
    public override string ToString() => Name;
}

/// <summary>
/// The user's input is wrong: the one error that means "exit 2, fix what you gave". A layer below
/// the command line names the <see cref="UserInput"/>; the command line names its option, a
/// variable or a setting as the user wrote it. A bug is never this (it is an <see cref="InvalidOperationException"/>).
/// </summary>
public sealed class InputException : Exception
{
    public InputException(UserInput input, string problem)
        : base($"{input.Name}: {problem}")
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
