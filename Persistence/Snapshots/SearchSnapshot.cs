using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;
using NasActors.Protocol;
using NasActors.Search;
using NasActors.Search.Events;

namespace NasActors.Persistence.Snapshots;

/// <summary>
/// A stored coordinator snapshot, of whichever shape it was written in: the search state it holds
/// and the strategy's bytes. Stored shapes are contracts of their own, apart from the domain's
/// <see cref="SearchState"/>: the domain may change, and every shape ever written still reads.
/// </summary>
public interface ISearchSnapshot : IWireMessage
{
    byte[] StrategyState { get; }

    SearchState ToState();
}

/// <summary>
/// The coordinator's snapshot as written now: the state's facts (settings, counters, unhealthy
/// workers) as JSON, and its children as one compact block (<see cref="ChildrenBlock"/>) with the
/// strings they name (workers, failure reasons) listed once. A status of a 20,000-child run reads
/// it in a fresh process: decoding a block is a loop, where 20,000 JSON objects cost the
/// serializer's start-up and a property lookup each (docs/decisions.md). The queues, running
/// indexes and rung tables are not stored: they follow from the children and are rebuilt on reading.
/// </summary>
[WireName("snapshot.search-state.v3")]
public sealed record SearchSnapshot(StoredSearchState State, byte[] StrategyState) : ISearchSnapshot
{
    public static SearchSnapshot Of(SearchState state, byte[] strategyState) => new(StoredSearchState.From(state), strategyState);

    /// <summary>
    /// Decodes a snapshot of a search with <paramref name="settings"/> and one trained child: what
    /// a fresh process's first decode of a large one spends most of its time on is compiling the
    /// code it runs, and this compiles it, on another core while the large one is still being read.
    /// </summary>
    public static void Rehearse(SearchSettings settings)
    {
        var space = settings.Decisions;
        var decisions = new int[space.Length]; // every first choice: a network of any space
        var state = SearchState.Fold([
            new SearchStarted(settings, DateTimeOffset.UnixEpoch), new ChildSampled(0, space.Decode(decisions), decisions, 0, 0),
            new ChildAssigned(0, false, "rehearsal", 1), new ChildTrained(0, "rehearsal", 0.5, 1, 1, 1, 1)]);
        var snapshot = Of(state, []);
        var format = JournalFormat.Default;
        ((ISearchSnapshot)format.FromBinary(format.ToBinary(snapshot), format.Manifest(snapshot))).ToState();
    }

    public SearchState ToState() => State.ToState();
}

public sealed record StoredSearchState(
    SearchSettings? Settings, int Budget, DateTimeOffset? StartedAt, DateTimeOffset? CompletedAt, long NextChildId, int PolicyVersion,
    int IgnoredResults, int Trained, int Failed, int Stopped, double? BestAccuracy, bool FinalQueued,
    IReadOnlyDictionary<string, string> Unhealthy, IReadOnlyList<string> Strings, byte[] Children)
{
    /// <summary>Children refused over a bound (absent in snapshots of runs before bounds: none).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int Refused { get; init; }

    /// <summary>The cost objectives' reference point, once fixed (absent: not yet, or accuracy alone).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, double>? CostReference { get; init; }

    public static StoredSearchState From(SearchState s)
    {
        var (block, strings) = ChildrenBlock.Write(s.Children.Values);
        return new(s.Settings, s.Budget, s.StartedAt, s.CompletedAt, s.NextChildId, s.PolicyVersion, s.IgnoredResults, s.Trained, s.Failed, s.Stopped,
            s.BestAccuracy, s.FinalQueued, s.Unhealthy, strings, block) { Refused = s.Refused, CostReference = s.CostReference };
    }

    public SearchState ToState() => SearchIndexes.Rebuild(new SearchState
    {
        Settings = Settings, Budget = Budget, StartedAt = StartedAt, CompletedAt = CompletedAt, NextChildId = NextChildId,
        PolicyVersion = PolicyVersion, IgnoredResults = IgnoredResults, Trained = Trained, Failed = Failed, Stopped = Stopped, BestAccuracy = BestAccuracy,
        FinalQueued = FinalQueued, Children = ChildrenBlock.Read(Children, Strings), Refused = Refused,
        CostReference = CostReference?.ToImmutableSortedDictionary(StringComparer.Ordinal),
        Unhealthy = Unhealthy.ToImmutableSortedDictionary(),
    });
}

/// <summary>
/// A snapshot's children as bytes, in id order. Per child: id (7-bit varint), decisions (count,
/// then one byte each), log-probability (8-byte double), policy version (varint), the search job,
/// a final-job flag byte (0/1) and the final job, then the rungs (count + 1, 0 for none; each:
/// epoch, accuracy, a flag byte: 1 stopped, 2 epochs trained follows, 4 costs follow, 8 a latency follows; then that count, the
/// parameters and mult-adds as varints, the latency as a double and its device as a string index). A job:
/// status code (<see cref="StatusNames.Code"/>), worker (0 none, k the k-th string), attempts,
/// a flag byte (1 outcome, 2 test accuracy, 4 failure reason, 8 resumed epochs, 16 latency), the outcome
/// (accuracy, [test accuracy], loss as doubles, parameters and mult-adds as varints, seconds as a
/// double, [resumed epochs], [latency as a double, its device as a string index]) and the reason (a string index). Varints are .NET's 7-bit encoding; everything is little-endian.
/// </summary>
public static class ChildrenBlock
{
    private const byte HasOutcome = 1, HasTest = 2, HasReason = 4, HasResumed = 8, HasLatency = 16;
    private const byte RungStopped = 1, RungEpochsTrained = 2, RungCosts = 4, RungLatency = 8;

    public static (byte[] Block, IReadOnlyList<string> Strings) Write(IEnumerable<ChildRecord> children)
    {
        var strings = new List<string>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        int Ref(string? value)
        {
            if (value is null) return 0;
            if (!index.TryGetValue(value, out var i))
            {
                strings.Add(value);
                index[value] = i = strings.Count;
            }
            return i;
        }
        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer))
        {
            void Job(TrainingJob job)
            {
                w.Write(StatusNames.Code(job.Status));
                w.Write7BitEncodedInt(Ref(job.WorkerId));
                w.Write7BitEncodedInt(job.Attempts);
                var o = job.Outcome;
                w.Write((byte)((o is null ? 0 : HasOutcome) | (o?.TestAccuracy is null ? 0 : HasTest) | (job.FailReason is null ? 0 : HasReason)
                               | (o is { ResumedEpochs: > 0 } ? HasResumed : 0) | (o?.LatencyMs is null ? 0 : HasLatency)));
                if (o is not null)
                {
                    w.Write(o.Accuracy);
                    if (o.TestAccuracy is { } test) w.Write(test);
                    w.Write(o.Loss);
                    w.Write7BitEncodedInt64(o.Parameters);
                    w.Write7BitEncodedInt64(o.MultAdds);
                    w.Write(o.Seconds);
                    if (o.ResumedEpochs > 0) w.Write7BitEncodedInt(o.ResumedEpochs);
                    if (o.LatencyMs is { } latency)
                    {
                        w.Write(latency);
                        w.Write7BitEncodedInt(Ref(o.LatencyDevice));
                    }
                }
                if (job.FailReason is not null) w.Write7BitEncodedInt(Ref(job.FailReason));
            }
            foreach (var c in children)
            {
                w.Write7BitEncodedInt64(c.Id);
                w.Write7BitEncodedInt(c.Decisions.Length);
                foreach (var d in c.Decisions)
                    w.Write(d is >= 0 and <= byte.MaxValue ? (byte)d : throw new InvalidOperationException($"child {c.Id}: decision {d} is out of 0..255"));
                w.Write(c.LogProbability);
                w.Write7BitEncodedInt(c.PolicyVersion);
                Job(c.Search);
                w.Write((byte)(c.Final is null ? 0 : 1));
                if (c.Final is { } final) Job(final);
                w.Write7BitEncodedInt(c.Rungs is null ? 0 : c.Rungs.Count + 1);
                foreach (var r in c.Rungs ?? [])
                {
                    w.Write7BitEncodedInt(r.Epoch);
                    w.Write(r.Accuracy);
                    w.Write((byte)((r.Stopped ? RungStopped : 0) | (r.EpochsTrained is null ? 0 : RungEpochsTrained) | (r.Costs is null ? 0 : RungCosts)
                                   | (r.Costs?.LatencyMs is null ? 0 : RungLatency)));
                    if (r.EpochsTrained is { } trained) w.Write7BitEncodedInt(trained);
                    if (r.Costs is not { } costs) continue;
                    w.Write7BitEncodedInt64(costs.Parameters);
                    w.Write7BitEncodedInt64(costs.MultAdds);
                    if (costs.LatencyMs is not { } latency) continue;
                    w.Write(latency);
                    w.Write7BitEncodedInt(Ref(costs.LatencyDevice));
                }
            }
        }
        return (buffer.ToArray(), strings);
    }

    /// <summary>The children of a block; a block that ends early or names what it does not hold is a <see cref="JsonException"/> naming where.</summary>
    public static ImmutableSortedDictionary<long, ChildRecord> Read(byte[] block, IReadOnlyList<string> strings)
    {
        var children = ImmutableSortedDictionary.CreateBuilder<long, ChildRecord>();
        using var r = new BinaryReader(new MemoryStream(block, writable: false));
        string? Str(int i) => i == 0 ? null : i > 0 && i <= strings.Count ? strings[i - 1] : throw new JsonException($"string {i} of {strings.Count}");
        // A count is checked against the bytes left before anything is allocated for it.
        int Count(int each)
        {
            var n = r.Read7BitEncodedInt();
            return n >= 0 && (long)n * each <= block.Length - r.BaseStream.Position ? n : throw new JsonException($"a count of {n}");
        }
        byte Flags(byte allowed)
        {
            var flags = r.ReadByte();
            return (flags & ~allowed) == 0 ? flags : throw new JsonException($"unknown flags {flags}");
        }
        TrainingJob Job()
        {
            var status = StatusNames.FromCode(r.ReadByte());
            var worker = Str(r.Read7BitEncodedInt());
            var attempts = r.Read7BitEncodedInt();
            var flags = Flags(HasOutcome | HasTest | HasReason | HasResumed | HasLatency);
            if ((flags & (HasOutcome | HasLatency)) == HasLatency) throw new JsonException("a latency without an outcome");
            JobOutcome? outcome = null;
            if ((flags & HasOutcome) != 0)
            {
                var accuracy = r.ReadDouble();
                double? test = (flags & HasTest) != 0 ? r.ReadDouble() : null;
                outcome = new JobOutcome(accuracy, test, r.ReadDouble(), r.Read7BitEncodedInt64(), r.Read7BitEncodedInt64(), r.ReadDouble(),
                    (flags & HasResumed) != 0 ? r.Read7BitEncodedInt() : 0);
                if ((flags & HasLatency) != 0) outcome = outcome with { LatencyMs = r.ReadDouble(), LatencyDevice = Str(r.Read7BitEncodedInt()) };
            }
            var reason = (flags & HasReason) != 0 ? Str(r.Read7BitEncodedInt()) : null;
            return new TrainingJob(status, worker, attempts, outcome, reason);
        }
        try
        {
            while (r.BaseStream.Position < block.Length)
            {
                var id = r.Read7BitEncodedInt64();
                var decisions = new int[Count(1)];
                for (var i = 0; i < decisions.Length; i++) decisions[i] = r.ReadByte();
                var logProbability = r.ReadDouble();
                var policyVersion = r.Read7BitEncodedInt();
                var search = Job();
                var final = r.ReadByte() switch { 0 => null, 1 => Job(), var b => throw new JsonException($"final-job flag {b}") };
                var rungCount = Count(1);
                ImmutableList<RungResult>? rungs = null;
                if (rungCount > 0)
                {
                    var list = ImmutableList.CreateBuilder<RungResult>();
                    for (var i = 1; i < rungCount; i++)
                    {
                        var epoch = r.Read7BitEncodedInt();
                        var accuracy = r.ReadDouble();
                        var flags = Flags(RungStopped | RungEpochsTrained | RungCosts | RungLatency);
                        int? trained = (flags & RungEpochsTrained) != 0 ? r.Read7BitEncodedInt() : null;
                        var costs = (flags & RungCosts) == 0 ? null : new Protocol.Messages.ChildCosts(r.Read7BitEncodedInt64(), r.Read7BitEncodedInt64());
                        if ((flags & RungLatency) != 0)
                            costs = (costs ?? throw new JsonException("a rung's latency without its costs")) with { LatencyMs = r.ReadDouble(), LatencyDevice = Str(r.Read7BitEncodedInt()) };
                        list.Add(new RungResult(epoch, accuracy, (flags & RungStopped) != 0, trained, costs));
                    }
                    rungs = list.ToImmutable();
                }
                if (!children.TryAdd(id, new ChildRecord(id, decisions, logProbability, policyVersion, search, final, rungs)))
                    throw new JsonException($"child {id} is stored twice");
            }
        }
        catch (Exception e) when (e is EndOfStreamException or FormatException or OverflowException or JsonException)
        {
            throw new JsonException($"the children block is damaged at byte {r.BaseStream.Position} of {block.Length}: {e.Message}", e);
        }
        return children.ToImmutable();
    }
}

/// <summary>
/// Job statuses by stored name, written out here (never taken from the enum's member names or
/// numbers): renaming or reordering <see cref="JobStatus"/> cannot change what a stored run means.
/// </summary>
internal static class StatusNames
{
    public static string Name(JobStatus status) => status switch
    {
        JobStatus.Queued => "queued",
        JobStatus.Running => "running",
        JobStatus.Trained => "trained",
        JobStatus.Failed => "failed",
        JobStatus.Stopped => "stopped",
        JobStatus.Refused => "refused",
        _ => throw new InvalidOperationException($"job status {status} has no stored name"),
    };

    public static JobStatus Parse(string name) => name switch
    {
        "queued" => JobStatus.Queued,
        "running" => JobStatus.Running,
        "trained" => JobStatus.Trained,
        "failed" => JobStatus.Failed,
        "stopped" => JobStatus.Stopped,
        "refused" => JobStatus.Refused,
        _ => throw new JsonException($"unknown job status \"{name}\""),
    };

    /// <summary>The codes of the compact children block (<see cref="ChildrenBlock"/>): written out here, as the names are.</summary>
    public static byte Code(JobStatus status) => status switch
    {
        JobStatus.Queued => 0,
        JobStatus.Running => 1,
        JobStatus.Trained => 2,
        JobStatus.Failed => 3,
        JobStatus.Stopped => 4,
        JobStatus.Refused => 5,
        _ => throw new InvalidOperationException($"job status {status} has no stored code"),
    };

    public static JobStatus FromCode(byte code) => code switch
    {
        0 => JobStatus.Queued,
        1 => JobStatus.Running,
        2 => JobStatus.Trained,
        3 => JobStatus.Failed,
        4 => JobStatus.Stopped,
        5 => JobStatus.Refused,
        _ => throw new JsonException($"unknown job status code {code}"),
    };

    /// <summary>The numbers the first snapshot shape stored (the enum's order then).</summary>
    public static JobStatus FromV1(int number) => number switch
    {
        0 => JobStatus.Queued,
        1 => JobStatus.Running,
        2 => JobStatus.Trained,
        3 => JobStatus.Failed,
        _ => throw new JsonException($"unknown job status number {number}"),
    };

    public static int ToV1(JobStatus status) => status switch
    {
        JobStatus.Queued => 0,
        JobStatus.Running => 1,
        JobStatus.Trained => 2,
        JobStatus.Failed => 3,
        _ => throw new InvalidOperationException($"job status {status} has no number in the first snapshot shape"),
    };
}

/// <summary>The state's queues and running indexes, rebuilt from its children's jobs (a stored snapshot holds only the jobs).</summary>
internal static class SearchIndexes
{
    /// <summary>The state with its indexes; one no events could have made (a snapshot edited or damaged where it still decodes) is a <see cref="JsonException"/> saying why.</summary>
    public static SearchState Rebuild(SearchState s)
    {
        if (s.Unrestorable() is { } why) throw new JsonException(why);
        var children = s.Children.Values;
        return s with
        {
            SearchJobs = PhaseJobs.Of(children.Select(c => (c.Id, (TrainingJob?)c.Search))),
            FinalJobs = PhaseJobs.Of(children.Select(c => (c.Id, c.Final))),
            Rungs = s.Stopping is { } rule ? RungTables.Of(children, rule, s.Objectives) : RungTables.Empty,
        };
    }
}
