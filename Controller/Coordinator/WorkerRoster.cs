using Akka.Actor;

namespace NasActors.Controller.Coordinator;

/// <summary>
/// The workers a coordinator knows, by id. A known id under a new actor is a worker that restarted
/// and lost what it trained; an actor that terminates is a worker gone. The coordinator watches
/// what this says to watch and requeues what it says was lost.
/// </summary>
public sealed class WorkerRoster
{
    private readonly Dictionary<string, IActorRef> workers = new();

    /// <summary>The ids of the workers known now (after a restart: those that said they live).</summary>
    public IReadOnlySet<string> Ids => workers.Keys.ToHashSet();

    /// <summary>Knows <paramref name="worker"/> as <paramref name="workerId"/>; returns the actor it replaces (a restart), if any.</summary>
    public IActorRef? Register(string workerId, IActorRef worker)
    {
        var replaced = workers.TryGetValue(workerId, out var known) && !known.Equals(worker) ? known : null;
        workers[workerId] = worker;
        return replaced;
    }

    /// <summary>Forgets a terminated worker; returns its id (null: not one of ours).</summary>
    public string? Remove(IActorRef worker)
    {
        var id = workers.FirstOrDefault(w => w.Value.Equals(worker)).Key;
        if (id is not null) workers.Remove(id);
        return id;
    }
}
