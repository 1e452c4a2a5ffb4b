using System.Diagnostics;
using Microsoft.Data.Sqlite;
using NasActors.Persistence;
using NasActors.Persistence.Snapshots;

// The steps of reading a run as nas status does, each timed in this fresh process: the latest
// snapshot's row, its decoding, the state built from it, the settings file; then the decoding
// and the state again (warm). Usage: StatusParts RUN_FOLDER
var run = args.Length == 1 ? args[0] : throw new ArgumentException("usage: StatusParts RUN_FOLDER");
var clock = Stopwatch.StartNew();
var parts = new List<string>();
void Took(string what)
{
    parts.Add($"{what} {clock.Elapsed.TotalMilliseconds:F0} ms");
    clock.Restart();
}

byte[] payload;
string manifest;
using (var connection = new SqliteConnection($"Data Source={Path.Combine(run, "snapshots.db")};Mode=ReadOnly;Pooling=False"))
{
    connection.Open();
    using var command = connection.CreateCommand();
    command.CommandText = "SELECT manifest, snapshot FROM snapshot WHERE persistence_id = 'search' ORDER BY sequence_number DESC LIMIT 1";
    using var reader = command.ExecuteReader();
    if (!reader.Read()) throw new InvalidOperationException($"{run} holds no coordinator snapshot");
    (manifest, payload) = (reader.GetString(0), (byte[])reader[1]);
}
Took($"row ({payload.Length / 1048576.0:F1} MB)");
for (var pass = 1; pass <= 2; pass++)
{
    var snapshot = (ISearchSnapshot)JournalFormat.Default.FromBinary(payload, manifest);
    Took($"decode#{pass}");
    snapshot.ToState();
    Took($"state#{pass}");
}
new FolderRunStore(run).RequireSettings();
Took("settings");
Console.WriteLine(string.Join(", ", parts));
