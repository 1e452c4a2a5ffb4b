using System.Text;
using NasActors.Protocol;
using NasActors.SearchSpace;

namespace NasActors.Controller.Strategies;

/// <summary>
/// What every strategy shares: the decision space, a seeded random source, the table of pending
/// proposals and the common part of the saved state. Subclasses choose decisions and learn.
/// </summary>
public abstract class StrategyBase : ISearchStrategy
{
    private const string Magic = "NASSTRATEGY1";
    private readonly Dictionary<long, Proposal> pending = new();
    private readonly SizedWriter stateWriter = new();

    protected StrategyBase(StrategyConfig config)
    {
        var errors = config.Errors();
        if (errors.Count > 0) throw new InputException(string.Join("; ", errors));
        Config = config;
        Space = new DecisionSpace(SearchSpaces.Get(config.Space), config.Blocks);
        Rng = new SeededRandom(config.Seed);
    }

    public abstract string Kind { get; }
    public virtual int PolicyVersion => 0;
    public int PendingCount => pending.Count;
    protected StrategyConfig Config { get; }
    protected DecisionSpace Space { get; }
    protected SeededRandom Rng { get; }

    public Proposal Propose(long childId)
    {
        if (pending.ContainsKey(childId))
            throw new InvalidOperationException($"child {childId} was already proposed and is still pending");
        var (decisions, logProbability) = NextDecisions();
        var proposal = new Proposal(childId, Space.Decode(decisions), decisions, logProbability, PolicyVersion);
        pending.Add(childId, proposal);
        return proposal;
    }

    public bool Observe(long childId, double? reward, IReadOnlyList<double>? point = null)
    {
        if (!pending.Remove(childId, out var proposal)) return false;
        var finite = reward is { } r && double.IsFinite(r);
        Learn(proposal, finite ? reward!.Value : Config.FailureReward, finite ? point : null);
        return true;
    }

    public bool ObserveRefused(long childId)
    {
        if (!pending.Remove(childId, out var proposal)) return false;
        LearnRefused(proposal);
        return true;
    }

    /// <summary>What a refused child teaches: by default, what a failed one does.</summary>
    protected virtual void LearnRefused(Proposal proposal) => Learn(proposal, Config.FailureReward, null);

    public bool ObserveStopped(long childId, double rungAccuracy, IReadOnlyList<double>? point = null)
    {
        if (!pending.Remove(childId, out var proposal)) return false;
        if ((Config.Stopped ?? DefaultStopped) == StoppedChildren.RungAccuracy && double.IsFinite(rungAccuracy)) Learn(proposal, rungAccuracy, point);
        return true;
    }

    /// <summary>
    /// What a strategy learns from a stopped child unless configured otherwise: its accuracy at the
    /// rung, as any other reward (random search learns nothing from any). Chosen by measurement
    /// (docs/decisions.md): ignored, stopped children leave evolution and PPO with too few
    /// observations to learn from in the same number of children.
    /// </summary>
    public const StoppedChildren DefaultStopped = StoppedChildren.RungAccuracy;

    public virtual bool HasPendingUpdate => false;

    public virtual Func<byte[]> PrepareUpdate() => throw new InvalidOperationException($"{Kind} has no policy updates");

    public virtual void ApplyUpdate(byte[] updated) => throw new InvalidOperationException($"{Kind} has no policy updates");

    protected abstract (int[] Decisions, double LogProbability) NextDecisions();

    /// <param name="point">the child's objectives to minimise, in a search of several (null: its reward alone)</param>
    protected abstract void Learn(Proposal proposal, double reward, IReadOnlyList<double>? point);

    protected abstract void WriteState(BinaryWriter writer);

    protected abstract void ReadState(BinaryReader reader);

    /// <summary>Log-probability of a uniform draw over the valid decisions (random search's policy).</summary>
    protected double UniformLogProbability() =>
        -Enumerable.Range(0, Space.Length).Sum(step => Math.Log(Space.ChoiceCount(step)));

    public byte[] SaveState() => stateWriter.Write(w =>
    {
        w.Write(Magic);
        w.Write(Kind);
        w.Write(Space.Blocks);
        foreach (var word in Rng.State) w.Write(word);
        w.Write(pending.Count);
        foreach (var p in pending.Values.OrderBy(p => p.ChildId))
        {
            w.Write(p.ChildId);
            WriteDecisions(w, p.Decisions);
            w.Write(p.LogProbability);
            w.Write(p.PolicyVersion);
        }
        WriteState(w);
    });

    /// <summary>Loads a state saved by <see cref="SaveState"/> of the same kind of strategy.</summary>
    protected void LoadState(byte[] state)
    {
        try
        {
            using var r = new BinaryReader(new MemoryStream(state), Encoding.UTF8);
            if (r.ReadString() != Magic) throw new InvalidDataException("not a saved strategy state");
            var kind = r.ReadString();
            if (kind != Kind) throw new InvalidDataException($"the state is of a {kind} strategy, not {Kind}");
            var blocks = r.ReadInt32();
            if (blocks != Space.Blocks) throw new InvalidDataException($"the state is for B = {blocks}, not {Space.Blocks}");
            Rng.State = [r.ReadUInt64(), r.ReadUInt64(), r.ReadUInt64(), r.ReadUInt64()];
            pending.Clear();
            for (var n = r.ReadInt32(); n > 0; n--)
            {
                var id = r.ReadInt64();
                var decisions = ReadDecisions(r);
                pending.Add(id, new Proposal(id, Space.Decode(decisions), decisions, r.ReadDouble(), r.ReadInt32()));
            }
            ReadState(r);
            if (r.BaseStream.Position != r.BaseStream.Length) throw new InvalidDataException("trailing bytes after the state");
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or ArgumentException)
        {
            throw new InvalidDataException($"corrupt {Kind} strategy state: {e.Message}", e);
        }
    }

    protected static void WriteDecisions(BinaryWriter w, int[] decisions)
    {
        w.Write(decisions.Length);
        foreach (var d in decisions) w.Write(d);
    }

    protected int[] ReadDecisions(BinaryReader r)
    {
        var n = r.ReadInt32();
        if (n != Space.Length) throw new InvalidDataException($"a stored architecture has {n} decisions, expected {Space.Length}");
        var decisions = new int[n];
        for (var i = 0; i < n; i++) decisions[i] = r.ReadInt32();
        return decisions;
    }

    public virtual void Dispose() => GC.SuppressFinalize(this);
}
