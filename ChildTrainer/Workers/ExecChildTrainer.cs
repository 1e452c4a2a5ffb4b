using System.Diagnostics;
using System.Text.Json;
using NasActors.Protocol.Messages;
using NasActors.SearchSpace;

namespace NasActors.ChildTrainer.Workers;

/// <summary>
/// Runs a user's command per child (any language, e.g. a PyTorch script) through <c>/bin/sh -c</c>.
/// The genotype JSON arrives on standard input and in the file named by <c>NAS_GENOTYPE_FILE</c>;
/// <c>NAS_CHILD_ID</c>, <c>NAS_DEVICE</c>, <c>NAS_SEED</c>, <c>NAS_FINAL</c> and the training spec
/// (<c>NAS_EPOCHS</c>, <c>NAS_CELLS</c>, <c>NAS_FILTERS</c>, <c>NAS_DATASET</c>, <c>NAS_BATCH</c>, <c>NAS_LR</c>,
/// <c>NAS_TRAIN_LIMIT</c> (a number or all), <c>NAS_VALIDATION</c>, <c>NAS_DROP_PATH_KEEP</c>) are in its environment.
/// The last line of its standard output must be a JSON object with <c>accuracy</c> in [0, 1]
/// (optional: <c>test_accuracy</c>, <c>loss</c>, <c>params</c>, <c>mult_adds</c>, <c>seconds</c>);
/// earlier lines like <c>{"epoch": 1, "epochs": 3, "val_accuracy": 0.6}</c> report progress. With
/// early stopping, <c>NAS_RUNGS</c> lists the epochs (comma-separated) whose progress line must
/// carry <c>val_accuracy</c>: the child is judged there, and stopping it kills its process group.
/// A non-zero exit, a missing or invalid result line or a timeout fails the child with the reason
/// and the tail of its standard error. The command runs in a session (and process group) of its
/// own: its result counts when the command exits, and whatever it left running is killed then,
/// on timeout, and when the worker stops.
/// </summary>
public sealed class ExecChildTrainer : IChildTrainer
{
    private const int TailLines = 20;

    private readonly string command;

    // Once per process, when its first exec trainer is made: what a killed nas left running on this machine.
    private static readonly Lazy<int> Reaped = new(OrphanReaper.ReapOrphans);

    public ExecChildTrainer(string command)
    {
        this.command = command;
        _ = Reaped.Value;
    }

    public TrainOutcome Train(TrainChild job, string device, Action<int, int, double?> progress, CancellationToken cancel)
    {
        var genotypeFile = Path.Combine(Path.GetTempPath(), $"nas-child-{job.ChildId}-{Guid.NewGuid():N}.json");
        var json = GenotypeJson.Write(job.Genotype);
        File.WriteAllText(genotypeFile, json);
        var clock = Stopwatch.StartNew();
        try
        {
            // setsid (util-linux) makes the shell the leader of a new process group, so the group can be killed as one.
            var start = new ProcessStartInfo("setsid")
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.ArgumentList.Add("/bin/sh");
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add(command);
            var env = start.Environment;
            env["NAS_GENOTYPE_FILE"] = genotypeFile;
            env["NAS_CHILD_ID"] = job.ChildId.ToString();
            env["NAS_DEVICE"] = device;
            env["NAS_SEED"] = job.Seed.ToString();
            env["NAS_FINAL"] = job.Final ? "1" : "0";
            env["NAS_EPOCHS"] = job.Spec.Epochs.ToString();
            env["NAS_CELLS"] = job.Spec.Cells.ToString();
            env["NAS_FILTERS"] = job.Spec.Filters.ToString();
            env["NAS_DATASET"] = job.Spec.Dataset;
            env["NAS_BATCH"] = job.Spec.BatchSize.ToString(System.Globalization.CultureInfo.InvariantCulture);
            env["NAS_LR"] = job.Spec.LearningRate.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
            env["NAS_TRAIN_LIMIT"] = job.Spec.TrainLimit?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "all";
            env["NAS_VALIDATION"] = job.Spec.ValidationSize.ToString(System.Globalization.CultureInfo.InvariantCulture);
            env["NAS_DROP_PATH_KEEP"] = job.Spec.DropPathKeep.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
            if (job.Spec.Image is { } image) env["NAS_IMAGE"] = image.ToString(System.Globalization.CultureInfo.InvariantCulture);
            env["NAS_PRECISION"] = job.Spec.Precision ?? "fp32";
            env["NAS_CHANNELS_LAST"] = job.Spec.ChannelsLast ? "1" : "0";
            env["NAS_RUNGS"] = string.Join(",", job.Rungs ?? []);
            env[OrphanReaper.Variable] = OrphanReaper.Owner;

            using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start /bin/sh -c {command}");
            var stdout = new Queue<string>();
            var stderr = new Queue<string>();
            process.OutputDataReceived += (_, e) =>
            {
                if (string.IsNullOrWhiteSpace(e.Data)) return;
                lock (stdout) Keep(stdout, e.Data);
                if (Progress(e.Data) is { } p) progress(p.Epoch, p.Epochs, p.Accuracy);
            };
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is not null) lock (stderr) Keep(stderr, e.Data);
            };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            try
            {
                process.StandardInput.Write(json);
                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // The command need not read its standard input.
            }

            // A worker that stops (Ctrl-C, SIGTERM) kills the command at once, from its own thread.
            using var onStop = cancel.Register(() => kill(-process.Id, SigKill));
            var deadline = Stopwatch.StartNew();
            var limit = TimeSpan.FromSeconds(job.Spec.TimeoutSeconds);
            // Waits for the command itself, not for the end of its output: a process it left in the
            // background may hold the pipes open for ever.
            while (!process.WaitForExit(TimeSpan.FromMilliseconds(100)))
            {
                if (!cancel.IsCancellationRequested && deadline.Elapsed < limit) continue;
                KillGroup(process);
                cancel.ThrowIfCancellationRequested();
                return TrainOutcome.Failure($"timed out after {job.Spec.TimeoutSeconds} s{Tail(stderr)}");
            }
            KillGroup(process);
            // Killed because the worker stopped: that is no outcome of the child's.
            cancel.ThrowIfCancellationRequested();
            if (process.ExitCode != 0)
                return TrainOutcome.Failure($"exited with code {process.ExitCode}{Tail(stderr)}");
            string? last;
            lock (stdout) last = stdout.LastOrDefault();
            return Parse(last, clock.Elapsed.TotalSeconds) ?? TrainOutcome.Failure(
                $"the last line of standard output must be a JSON object with \"accuracy\" in [0, 1] (and, if given, \"test_accuracy\" in [0, 1], whole non-negative \"params\" and \"mult_adds\", finite \"loss\" and \"seconds\"), got {(last is null ? "no output" : $"'{Truncate(last)}'")}{Tail(stderr)}");
        }
        finally
        {
            File.Delete(genotypeFile);
        }
    }

    private const int SigKill = 9;

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    /// <summary>Kills the command's whole process group, then lets its output drain (the pipes close with the group).</summary>
    private static void KillGroup(Process process)
    {
        kill(-process.Id, SigKill);
        // A process that escaped the group may keep the pipes open: the output read so far is enough.
        // The bound is generous: on a loaded machine the output's reader may lag the exit by seconds
        // (5 s lost a command's result line under a test that collects garbage without pause).
        Task.Run(process.WaitForExit).Wait(TimeSpan.FromSeconds(30));
    }

    private static TrainOutcome? Parse(string? line, double seconds)
    {
        if (line is null) return null;
        try
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("accuracy", out var a) || a.ValueKind != JsonValueKind.Number)
                return null;
            var accuracy = a.GetDouble();
            if (accuracy is < 0 or > 1 || double.IsNaN(accuracy)) return null;
            double? Number(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
            // The optional fields must make sense too: a fraction, finite values, whole non-negative counts.
            var test = Number("test_accuracy");
            if (test is < 0 or > 1 || (test is { } t && double.IsNaN(t))) return null;
            var counts = new[] { Number("params"), Number("mult_adds") };
            if (counts.Any(c => c is { } n && !(n >= 0 && n < 9e18 && n == Math.Floor(n)))) return null;
            var loss = Number("loss") ?? 0;
            var took = Number("seconds") ?? seconds;
            if (!double.IsFinite(loss) || !(took >= 0 && double.IsFinite(took))) return null;
            return new TrainOutcome(accuracy, test, loss, (long)(counts[0] ?? 0), (long)(counts[1] ?? 0), took);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static (int Epoch, int Epochs, double? Accuracy)? Progress(string line)
    {
        if (!line.StartsWith('{') || !line.Contains("\"epoch\"", StringComparison.Ordinal)) return null;
        try
        {
            using var doc = JsonDocument.Parse(line);
            var r = doc.RootElement;
            return r.TryGetProperty("epoch", out var e) && e.TryGetInt32(out var epoch)
                ? (epoch, r.TryGetProperty("epochs", out var n) && n.TryGetInt32(out var epochs) ? epochs : 0,
                   r.TryGetProperty("val_accuracy", out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null)
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static void Keep(Queue<string> lines, string line)
    {
        lines.Enqueue(line);
        if (lines.Count > TailLines) lines.Dequeue();
    }

    private static string Tail(Queue<string> stderr)
    {
        lock (stderr)
            return stderr.Count == 0 ? "" : "; standard error ends with:\n" + string.Join("\n", stderr.Select(Truncate));
    }

    private static string Truncate(string s) => s.Length <= 300 ? s : s[..300] + "...";
}
