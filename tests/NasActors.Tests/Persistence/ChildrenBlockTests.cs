using System.Text.Json;
using NasActors.Persistence.Snapshots;
using NasActors.Search;
using NasActors.Search.Events;
using NasActors.SearchSpace;

namespace NasActors.Tests.Persistence;

/// <summary>The snapshot's compact children block: faithful both ways, and a damaged one is one <see cref="JsonException"/>, whatever the damage.</summary>
public class ChildrenBlockTests
{
    private static SearchState Sample()
    {
        var decisions = new DecisionSpace().Encode(NasNetA.Genotype);
        return SearchState.Fold([
            new SearchStarted(new SearchSettings { EarlyStop = new EarlyStopSettings(), Search = new SearchSettings().Search with { Epochs = 9 } }, DateTimeOffset.UnixEpoch),
            .. Enumerable.Range(0, 3).SelectMany(id => new ISearchEvent[] { new ChildSampled(id, NasNetA.Genotype, decisions, -id, 1), new ChildAssigned(id, false, $"w{id}", 1) }),
            new ChildReachedRung(0, "w0", 1, 0.5, false), new ChildTrained(0, "w0", 0.9, 0.1, 10, 20, 3, ResumedEpochs: 2),
            new ChildFailed(1, "w1", "NaN loss"),
            new ChildReachedRung(2, "w2", 1, 0.1, true, EpochsTrained: 9),
        ]);
    }

    /// <summary>A search of accuracy against latency with a bound: rungs with costs, a latency, a refused child.</summary>
    private static SearchState CostSample()
    {
        var decisions = new DecisionSpace().Encode(NasNetA.Genotype);
        var costs = new NasActors.Protocol.Messages.ChildCosts(10, 20, 3.5, "cpu");
        return SearchState.Fold([
            new SearchStarted(new SearchSettings
            {
                EarlyStop = new EarlyStopSettings(), Search = new SearchSettings().Search with { Epochs = 9 },
                Objectives = ["accuracy", "latency_ms"], Constraints = new Dictionary<string, double> { ["latency_ms"] = 15 },
            }, DateTimeOffset.UnixEpoch),
            .. Enumerable.Range(0, 3).SelectMany(id => new ISearchEvent[] { new ChildSampled(id, NasNetA.Genotype, decisions, -id, 1), new ChildAssigned(id, false, $"w{id}", 1) }),
            new ChildReachedRung(0, "w0", 1, 0.5, false) { Costs = costs }, new ChildTrained(0, "w0", 0.9, 0.1, 10, 20, 3) { LatencyMs = 3.5, LatencyDevice = "cpu" },
            new ChildRefused(1, "w1", costs with { LatencyMs = 20 }, "over its bounds: latency_ms 20 > 15"),
            new ChildReachedRung(2, "w2", 1, 0.1, true, EpochsTrained: 9) { Costs = costs with { MultAdds = 30 } },
        ]);
    }

    [Fact]
    public void Every_cost_of_every_child_comes_back()
    {
        var s = CostSample();
        var (block, strings) = ChildrenBlock.Write(s.Children.Values);
        Assert.Equal(JsonSerializer.Serialize(s.Children), JsonSerializer.Serialize(ChildrenBlock.Read(block, strings)));
    }

    [Fact]
    public void Every_field_of_every_child_comes_back()
    {
        var s = Sample();
        var (block, strings) = ChildrenBlock.Write(s.Children.Values);
        Assert.Equal(["w0", "w1", "NaN loss", "w2"], strings);
        var back = ChildrenBlock.Read(block, strings);
        Assert.Equal(JsonSerializer.Serialize(s.Children), JsonSerializer.Serialize(back));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_block_cut_or_overwritten_anywhere_reads_or_fails_as_damaged_never_otherwise(bool costs)
    {
        var (block, strings) = ChildrenBlock.Write((costs ? CostSample() : Sample()).Children.Values);
        var outcomes = new List<string>();
        void Try(byte[] damaged)
        {
            try
            {
                outcomes.Add($"read {ChildrenBlock.Read(damaged, strings).Count}");
            }
            catch (JsonException e)
            {
                Assert.Contains("damaged", e.Message);
                outcomes.Add("damaged");
            }
        }
        for (var length = 0; length < block.Length; length++) Try(block[..length]);
        for (var at = 0; at < block.Length; at++)
            foreach (var value in new byte[] { 0x00, 0x7F, 0xFF })
            {
                var damaged = (byte[])block.Clone();
                damaged[at] = value;
                Try(damaged);
            }
        Assert.Contains("damaged", outcomes);
    }

    public static TheoryData<string, string> Tampered => new()
    {
        { "NextChildId=0", "child 0 is outside 0..-1, the ids sampled" },
        { "Trained=10", "it counts 10 trained, 1 failed, 1 stopped, 0 refused, and its children say 1, 1, 1, 0" },
        { "Budget=-5", "its budget is -5" },
        { "BestAccuracy=5", "its best accuracy is 5, and its trained children's is 0.9" },
        { "Children=", "it counts 1 trained" },
        { "Settings=null", "it holds children but no search settings" },
        { "decision=200", "child 0's decisions are no network of the run's space (decision 0" },
        { "accuracy=NaN", "child 0's search training has an outcome out of range (accuracy NaN" },
    };

    /// <summary>What a probe did to stored snapshots by hand: each decodes, and none is a state its events could make.</summary>
    [Theory]
    [MemberData(nameof(Tampered))]
    public void A_snapshot_edited_where_it_still_decodes_is_refused_saying_why(string edit, string why)
    {
        var format = NasActors.Persistence.JournalFormat.Default;
        var snapshot = SearchSnapshot.Of(Sample(), [1]);
        var json = System.Text.Json.Nodes.JsonNode.Parse(format.ToBinary(snapshot))!;
        var state = json["State"]!;
        var (block, strings) = ChildrenBlock.Write(Sample().Children.Values);
        var (key, value) = (edit.Split('=')[0], edit.Split('=')[1]);
        switch (key)
        {
            case "decision":
                block[2] = byte.Parse(value); // child 0's first decision (after its id and the decisions' count)
                state["Children"] = Convert.ToBase64String(block);
                break;
            case "accuracy":
                var child = ChildrenBlock.Read(block, strings)[0];
                var nan = child with { Search = child.Search with { Outcome = child.Search.Outcome! with { Accuracy = double.NaN } } };
                state["Children"] = Convert.ToBase64String(ChildrenBlock.Write([nan, .. ChildrenBlock.Read(block, strings).Values.Skip(1)]).Block);
                break;
            case "Children":
                state["Children"] = "";
                break;
            case "Settings":
                state["Settings"] = null;
                break;
            default:
                state[key] = System.Text.Json.Nodes.JsonValue.Create(double.Parse(value, System.Globalization.CultureInfo.InvariantCulture));
                if (key is "NextChildId" or "Trained" or "Budget") state[key] = int.Parse(value);
                break;
        }
        var tampered = System.Text.Encoding.UTF8.GetBytes(json.ToJsonString());
        var e = Assert.Throws<JsonException>(() => ((ISearchSnapshot)format.FromBinary(tampered, format.Manifest(snapshot))).ToState());
        Assert.Contains(why, e.Message);
    }
}
