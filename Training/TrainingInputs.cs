using NasActors.Protocol;

namespace NasActors.Training;

/// <summary>What a user gives to say where and on what children train.</summary>
public static class TrainingInputs
{
    public static readonly UserInput Devices = new("devices");
    public static readonly UserInput Dataset = new("dataset");
}
