using NasActors.Protocol;
using NasActors.Tests.Support;

namespace NasActors.Tests.Persistence;

/// <summary>
/// Journals of old runs must stay readable: every wire name, and the JSON of every stored type
/// (events and snapshots) as this version writes it, are checked in under tests/NasActors.Tests/Golden.
/// Renaming a type's wire name or reshaping a stored record fails here. The rule for changes
/// (docs/decisions.md): a stored shape never changes; a new shape gets a new wire name, and the old
/// type stays registered so old journals still read. NAS_WRITE_GOLDEN=1 rewrites the files, for a
/// deliberate addition only.
/// </summary>
public class StoredNamesTests
{
    private static readonly string Golden = Path.Combine(NasProcess.RepositoryRoot, "tests", "NasActors.Tests", "Golden");
    private static readonly bool Write = Environment.GetEnvironmentVariable("NAS_WRITE_GOLDEN") == "1";

    private static IEnumerable<(string Name, IWireMessage Sample)> StoredSamples() =>
        ((IEnumerable<object[]>)Protocol.SerializerTests.Samples()).Select(row => (IWireMessage)row[0])
            .Select(m => (Name: NasActors.Hosting.NasSerializer.Format.Manifest(m), Sample: m))
            .Where(s => s.Name.StartsWith("event.", StringComparison.Ordinal) || s.Name.StartsWith("snapshot.", StringComparison.Ordinal))
            // The first sample of a name is its golden shape; later ones add optional fields, left out at their default so the shape holds.
            .DistinctBy(s => s.Name);

    [Fact]
    public void Snapshots_from_before_decisions_were_packed_still_read()
    {
        var golden = File.ReadAllText(Path.Combine(Golden, "payloads", "snapshot.search-state.json"));
        var packed = System.Text.RegularExpressions.Regex.Match(golden, "\"Decisions\":\"([^\"]*)\"").Groups[1].Value;
        var decisions = Convert.FromBase64String(packed).Select(b => (int)b).ToArray();
        var old = golden.Replace($"\"{packed}\"", $"[{string.Join(",", decisions)}]");
        var state = ((NasActors.Persistence.Snapshots.ISearchSnapshot)NasActors.Hosting.NasSerializer.Format.FromBinary(System.Text.Encoding.UTF8.GetBytes(old), "snapshot.search-state")).ToState();
        Assert.Equal(decisions, state.Children[0].Decisions);
    }

    [Fact]
    public void Every_wire_name_is_in_the_checked_in_list()
    {
        var file = Path.Combine(Golden, "wire-names.txt");
        var names = NasActors.Hosting.NasSerializer.Format.Registry.Keys.Order(StringComparer.Ordinal).ToList();
        if (Write) File.WriteAllLines(file, names);
        Assert.Equal(File.ReadAllLines(file), names);
    }

    [Fact]
    public void Every_stored_type_reads_its_golden_payload_and_writes_it_back_unchanged()
    {
        var samples = StoredSamples().ToList();
        Assert.True(samples.Count >= 15, $"only {samples.Count} stored types sampled");
        foreach (var (name, sample) in samples)
        {
            var file = Path.Combine(Golden, "payloads", name + ".json");
            if (Write)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(file)!);
                File.WriteAllBytes(file, NasActors.Hosting.NasSerializer.Format.ToBinary(sample));
            }
            Assert.True(File.Exists(file), $"no golden payload for {name}");
            var golden = System.Text.Encoding.UTF8.GetString(File.ReadAllBytes(file));
            // Today's writer makes the golden bytes exactly, and reads them back into the same bytes.
            Assert.Equal(golden, System.Text.Encoding.UTF8.GetString(NasActors.Hosting.NasSerializer.Format.ToBinary(sample)));
            var read = NasActors.Hosting.NasSerializer.Format.FromBinary(File.ReadAllBytes(file), name);
            Assert.Equal(sample.GetType(), read.GetType());
            Assert.Equal(golden, System.Text.Encoding.UTF8.GetString(NasActors.Hosting.NasSerializer.Format.ToBinary(read)));
        }
    }
}
