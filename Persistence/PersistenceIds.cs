
namespace NasActors.Persistence;

/// <summary>
/// The persistence ids of one run's writers (the coordinator's event stream, the evaluator's
/// leaderboard). A run folder holds one run, under the plain ids it has always had; a shared
/// database holds many, each run's ids prefixed with its name.
/// </summary>
public sealed record PersistenceIds(string CoordinatorId, string EvaluatorId)
{
    public static readonly PersistenceIds Folder = new("search", "evaluator");

    public static PersistenceIds Named(string run) => new($"{run}/search", $"{run}/evaluator");
}
