using NasActors.Protocol.Messages;

namespace NasActors.Controller.Coordinator;

/// <summary>
/// What a coordinator tells its host once its run is finished and everything is stored (the host
/// lets the run's lease go); again only after a grown budget reopened the search and it finished
/// once more.
/// </summary>
public sealed record SearchFinished(SearchStatus Status);
