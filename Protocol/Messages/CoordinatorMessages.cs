namespace NasActors.Protocol.Messages;

[WireName("coordinator.get-status")]
public sealed record GetSearchStatus : IWireMessage;

/// <summary>A live view of the search for terminals and tests; <c>Run</c> is the coordinator's persistence id (which run it writes).</summary>
[WireName("coordinator.status")]
public sealed record SearchStatus(
    int Budget,
    int Sampled,
    int Completed,
    int Failed,
    int Running,
    double? BestAccuracy,
    int PolicyVersion,
    bool SearchCompleted,
    int FinalQueued,
    int FinalCompleted,
    bool Finished,
    IReadOnlyList<RunningChild> RunningChildren,
    string Run,
    int Stopped = 0,
    int Refused = 0) : IWireMessage;

public sealed record RunningChild(long ChildId, bool Final, string WorkerId, int Epoch, int Epochs);

/// <summary>The evaluator's request, after the search, to retrain these children with the final budget.</summary>
[WireName("coordinator.queue-final")]
public sealed record QueueFinalTraining(IReadOnlyList<long> ChildIds) : IWireMessage;
