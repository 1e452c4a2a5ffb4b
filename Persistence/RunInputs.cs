using NasActors.Protocol;

namespace NasActors.Persistence;

/// <summary>What a user gives to name and configure a run.</summary>
public static class RunInputs
{
    public static readonly UserInput Run = new("run");
    public static readonly UserInput Journal = new("journal");
    public static readonly UserInput Config = new("config");
}
