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

    [Fact]
    public void Every_field_of_every_child_comes_back()
    {
        var s = Sample();
        var (block, strings) = ChildrenBlock.Write(s.Children.Values);
        Assert.Equal(["w0", "w1", "NaN loss", "w2"], strings);
        var back = ChildrenBlock.Read(block, strings);
        Assert.Equal(JsonSerializer.Serialize(s.Children), JsonSerializer.Serialize(back));
    }

    [Fact]
    public void A_block_cut_or_overwritten_anywhere_reads_or_fails_as_damaged_never_otherwise()
    {
        var (block, strings) = ChildrenBlock.Write(Sample().Children.Values);
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
}
