using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Configuration;
using NasActors.Evaluator;
using NasActors.Hosting;
using NasActors.Protocol;
using NasActors.Protocol.Messages;
using NasActors.Persistence.Snapshots;
using NasActors.Search;
using NasActors.Search.Events;
using NasActors.SearchSpace;

namespace NasActors.Tests.Protocol;

public sealed class SerializerTests : IDisposable
{
    private readonly ActorSystem system = ActorSystem.Create("serializer-test",
        ConfigurationFactory.ParseString("akka.actor.provider = local").WithFallback(NodeConfig.ClusterHocon()));

    private NasSerializer Serializer => (NasSerializer)system.Serialization.FindSerializerForType(typeof(IWireMessage));

    /// <summary>The state the snapshot samples hold (the golden payloads were written from it).</summary>
    private static SearchState SnapshotSample => SearchState.Fold([
                new SearchStarted(new SearchSettings(), DateTimeOffset.UnixEpoch),
                new ChildSampled(0, NasNetA.Genotype, new DecisionSpace().Encode(NasNetA.Genotype), -1, 0),
                new ChildAssigned(0, false, "w", 1), new ChildTrained(0, "w", 0.5, 1, 2, 3, 4)]);

    /// <summary>The current snapshot's sample: every kind of child its block encodes (trained and retrained, failed, stopped late at a rung, running).</summary>
    /// <summary>A search of accuracy against latency with a bound: a refused child, a trained one with its latency.</summary>
    internal static SearchState ObjectivesSnapshotSample
    {
        get
        {
            var decisions = new DecisionSpace().Encode(NasNetA.Genotype);
            var settings = new SearchSettings { Objectives = ["accuracy", "latency_ms"], Constraints = new Dictionary<string, double> { ["latency_ms"] = 15 } };
            return SearchState.Fold([
                new SearchStarted(settings, DateTimeOffset.UnixEpoch),
                .. Enumerable.Range(0, 2).SelectMany(id => new ISearchEvent[] { new ChildSampled(id, NasNetA.Genotype, decisions, -1, 0), new ChildAssigned(id, false, "w", 1) }),
                new ChildRefused(0, "w", new ChildCosts(1000, 2000, 16.5, "cpu"), "over its bounds: latency_ms 16.5 > 15"),
                new ChildTrained(1, "w", 0.9, 0.3, 1000, 2000, 1.5) { LatencyMs = 3.25, LatencyDevice = "cpu" },
            ]);
        }
    }

    private static SearchState RichSnapshotSample
    {
        get
        {
            var decisions = new DecisionSpace().Encode(NasNetA.Genotype);
            var settings = new SearchSettings { EarlyStop = new EarlyStopSettings(), Search = new SearchSettings().Search with { Epochs = 9 } };
            return SearchState.Fold([
                new SearchStarted(settings, DateTimeOffset.UnixEpoch),
                .. Enumerable.Range(0, 4).SelectMany(id => new ISearchEvent[] { new ChildSampled(id, NasNetA.Genotype, decisions, -1.5 * id, id), new ChildAssigned(id, false, $"node:1/cpu#{id % 2}", 1) }),
                new ChildReachedRung(0, "node:1/cpu#0", 1, 0.4, false), new ChildReachedRung(0, "node:1/cpu#0", 3, 0.6, false),
                new ChildTrained(0, "node:1/cpu#0", 0.75, 0.5, 3_300_000, 600_000_000, 12.5, ResumedEpochs: 2),
                new ChildFailed(1, "node:1/cpu#1", "NonFiniteLoss: loss became NaN"),
                new ChildReachedRung(2, "node:1/cpu#0", 1, 0.2, true, EpochsTrained: 9),
                new WorkerUnhealthy("node:1/cpu#1", "cpu: dense convolutions compute wrong"),
                new SearchCompleted(1, 1, 0.75, DateTimeOffset.UnixEpoch),
                new FinalTrainingQueued([0]), new ChildAssigned(0, true, "node:1/cpu#0", 1),
                new FinalTrainingCompleted(0, "node:1/cpu#0", 0.8, 0.79, 0.4, 3_300_000, 600_000_000, 60),
            ]);
        }
    }

    public static TheoryData<IWireMessage> Samples()
    {
        var spec = new SearchSettings().Search;
        return new TheoryData<IWireMessage>
        {
            new RegisterWorker("node/cpu#0", "cpu", "torch"),
            new WorkerRegistered("node/cpu#0"),
            new RequestWork("node/cpu#0"),
            new NoWork(true),
            new TrainChild(3, NasNetA.Genotype, false, 17, 2, spec),
            new TrainChild(3, NasNetA.Genotype, false, 17, 2, spec, [1, 3]),
            new TrainChild(3, NasNetA.Genotype, false, 17, 2, spec) { Costs = new CostRequest(1, new Dictionary<string, double> { ["latency_ms"] = 15 }) },
            new RungReached("w", 3, 1, 0.42),
            new RungDecided(3, 1, true),
            new StillTraining("w", 3, false),
            new ChildProgress(3, false, "w", 1, 2, 0.5),
            new ChildResult(3, true, "w", 0.9, 0.88, 0.3, 1000, 2000, 1.5),
            new ChildResult(3, false, "w", 0.9, null, 0.3, 1000, 2000, 1.5) { Rungs = [new RungValue(1, 0.4), new RungValue(3, 0.7)], ResumedEpochs = 2 },
            new ChildFailure(3, false, "w", "NonFiniteLoss: loss became NaN"),
            new ChildResult(3, false, "w", 0.9, null, 0.3, 1000, 2000, 1.5) { Costs = new ChildCosts(1000, 2000, 3.25, "cuda:0") },
            new ChildRefusal(3, "w", new ChildCosts(1000, 2000, 16.5, "cpu"), 0.02),
            new ResultRecorded(3, false),
            new DeviceUnhealthy("w", "cpu: dense convolutions compute wrong on every path allowed"),
            new DeviceHealthy("w"),
            new DeviceHealthRecorded("w", true),
            new GetSearchStatus(),
            new SearchStatus(10, 5, 4, 1, 1, 0.9, 2, false, 0, 0, false, [new RunningChild(4, false, "w", 1, 2)], "exp/search"),
            new SearchStatus(10, 5, 4, 1, 1, 0.9, 2, false, 0, 0, false, [], "exp/search", Refused: 7),
            new QueueFinalTraining([1, 2]),
            new SearchStarted(new SearchSettings { Strategy = "evolution", Devices = ["cpu", "cuda:0"] }, DateTimeOffset.UnixEpoch),
            new SearchStarted(new SearchSettings { Objectives = ["accuracy", "latency_ms"], Constraints = new Dictionary<string, double> { ["latency_ms"] = 15 }, LatencyBatch = 8 },
                DateTimeOffset.UnixEpoch),
            new BudgetIncreased(40),
            new TimeoutsChanged(14400, 345600),
            new ChildSampled(3, NasNetA.Genotype, new DecisionSpace().Encode(NasNetA.Genotype), -12.5, 1),
            new ChildAssigned(3, false, "w", 1),
            new ChildTrained(3, "w", 0.9, 0.3, 1000, 2000, 1.5),
            new ChildTrained(3, "w", 0.9, 0.3, 1000, 2000, 1.5, ResumedEpochs: 4),
            new ChildTrained(3, "w", 0.9, 0.3, 1000, 2000, 1.5) { LatencyMs = 3.25, LatencyDevice = "cuda:0" },
            new ChildFailed(3, "w", "exited with code 1"),
            new ChildRefused(3, "w", new ChildCosts(1000, 2000, 16.5, "cpu"), "over its bounds: latency_ms 16.5 > 15"),
            new ChildReachedRung(3, "w", 3, 0.61, false),
            new ChildReachedRung(3, "w", 1, 0.31, true, EpochsTrained: 9),
            new ChildRequeued(3, true, "worker gone"),
            new ResultIgnored(3, false, "w", "result already recorded"),
            new PolicyUpdated(2, 40),
            new SearchCompleted(9, 1, 0.9, DateTimeOffset.UnixEpoch),
            new FinalTrainingQueued([3]),
            new FinalTrainingCompleted(3, "w", 0.91, 0.9, 0.2, 1000, 2000, 10),
            new FinalTrainingCompleted(3, "w", 0.91, 0.9, 0.2, 1000, 2000, 10, ResumedEpochs: 1),
            new FinalTrainingFailed(3, "w", "OutOfMemory"),
            new WorkerUnhealthy("w", "cpu: dense convolutions compute wrong on every path allowed"),
            new WorkerRecovered("w"),
            SearchSnapshot.Of(RichSnapshotSample, [1, 2, 3]),
            SearchSnapshot.Of(ObjectivesSnapshotSample, [1, 2, 3]),
            SearchSnapshotV2.Of(SnapshotSample, [1, 2, 3]),
            SearchSnapshotV1.Of(SnapshotSample, [1, 2, 3]),
            new LeaderboardSnapshot(5, 10, 2, true, false, [new BoardEntry(1, 0.5, 10)]),
            new LeaderboardSnapshotV1(5, 10, 2, true, false, [new LeaderboardEntryV1(1, 0.5, 10, NasNetA.Genotype)], []),
        };
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void Every_message_and_event_round_trips_under_its_stable_name(IWireMessage message)
    {
        var s = Serializer;
        var manifest = s.Manifest(message);
        Assert.StartsWith(message.GetType().GetCustomAttributes(typeof(WireNameAttribute), false).Cast<WireNameAttribute>().Single().Name, manifest);
        var back = s.FromBinary(s.ToBinary(message), manifest);
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize((object)message, WireFormat.Json), System.Text.Json.JsonSerializer.Serialize(back, WireFormat.Json));
    }

    [Fact]
    public void Every_wire_type_in_the_configured_assemblies_is_registered_and_covered_by_a_sample()
    {
        var sampled = ((IEnumerable<object[]>)Samples()).Select(row => row[0].GetType()).ToHashSet();
        Assert.All(NasSerializer.Format.Registry.Values, t => Assert.Contains(t, sampled));
        // The one list misses no wire type of any room, and the actor system's serializer is it.
        var everywhere = Architecture.ProductAssemblies().SelectMany(WireFormat.TypesIn).ToHashSet();
        Assert.Equal(everywhere.OrderBy(t => t.FullName), NasSerializer.Types.OrderBy(t => t.FullName));
        Assert.Equal(NasSerializer.Format.Registry.Keys.Order(), Serializer.Registry.Keys.Order());
    }

    [Fact]
    public void Unknown_names_and_malformed_payloads_are_rejected_not_guessed()
    {
        var s = Serializer;
        Assert.Contains("unknown wire name", Assert.Throws<SerializationException>(() => s.FromBinary("{}"u8.ToArray(), "System.Diagnostics.Process")).Message);
        Assert.Contains("malformed payload", Assert.Throws<SerializationException>(() => s.FromBinary("{\"WorkerId\": 3}"u8.ToArray(), "worker.request-work")).Message);
        Assert.Contains("malformed payload", Assert.Throws<SerializationException>(() => s.FromBinary("{\"WorkerId\": \"w\", \"$type\": \"x\"}"u8.ToArray(), "worker.request-work")).Message);
        Assert.Contains("malformed payload", Assert.Throws<SerializationException>(() => s.FromBinary("not json"u8.ToArray(), "worker.no-work")).Message);
        var badGenotype = "{\"ChildId\":1,\"Genotype\":{\"normal\":{}},\"Decisions\":[],\"LogProbability\":0,\"PolicyVersion\":0}"u8.ToArray();
        Assert.Contains("malformed payload", Assert.Throws<SerializationException>(() => s.FromBinary(badGenotype, "event.child-sampled")).Message);
        Assert.Throws<SerializationException>(() => s.Manifest("a string"));
    }

    [Fact]
    public void A_large_payload_written_into_a_buffer_sized_from_the_previous_one_has_the_same_bytes()
    {
        // A fresh registry: the sizes it learns are its own.
        var format = new WireFormat(NasSerializer.Types);
        SearchSnapshot SnapshotOf(int children) => SearchSnapshot.Of(SearchState.Fold(Enumerable.Range(0, children).SelectMany(id => new ISearchEvent[]
        {
            new ChildSampled(id, NasNetA.Genotype, new DecisionSpace().Encode(NasNetA.Genotype), -id, 0),
            new ChildAssigned(id, false, $"node/cpu#{id % 3}", 1), new ChildTrained(id, $"node/cpu#{id % 3}", 0.5 + id * 1e-4, 1, 2, 3, 4),
        }).Prepend(new SearchStarted(new SearchSettings(), DateTimeOffset.UnixEpoch))), [1, 2, 3]);

        // Below the threshold, then above it (the size is learned), then well above the previous
        // size (the sized buffer grows), then below it again.
        foreach (var children in new[] { 2, 600, 600, 2400, 450 })
        {
            var snapshot = SnapshotOf(children);
            var bytes = format.ToBinary(snapshot);
            Assert.Equal(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(snapshot, WireFormat.Json), bytes);
            Assert.Equal(children, ((SearchSnapshot)format.FromBinary(bytes, format.Manifest(snapshot))).ToState().Children.Count);
        }
        Assert.True(format.ToBinary(SnapshotOf(600)).Length >= WireFormat.LargePayload, "the sample is not large enough to take the sized path");

        // A recovered snapshot sizes the first one a new process writes: same bytes again.
        var fresh = new WireFormat(NasSerializer.Types);
        var recovered = format.ToBinary(SnapshotOf(900));
        fresh.FromBinary(recovered, fresh.Manifest(SnapshotOf(1)));
        var next = SnapshotOf(910);
        Assert.Equal(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(next, WireFormat.Json), fresh.ToBinary(next));
    }

    [Fact]
    public void A_payload_size_leaves_room_for_growth_until_it_repeats()
    {
        var size = new PayloadSize(800);
        Assert.Equal(900, size.Next);
        size.Saw(1000);
        Assert.Equal(1125, size.Next);
        size.Saw(1000);
        Assert.Equal(1000, size.Next);
        size.Saw(1200);
        Assert.Equal(1350, size.Next);
    }

    public void Dispose() => system.Terminate().Wait();
}
