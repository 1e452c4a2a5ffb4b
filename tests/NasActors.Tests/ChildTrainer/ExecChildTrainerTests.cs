using System.Collections.Concurrent;
using NasActors.ChildTrainer.Workers;
using NasActors.Protocol.Messages;
using NasActors.SearchSpace;
using NasActors.Tests.Support;

namespace NasActors.Tests.ChildTrainer;

/// <summary>The exec trainer on its own (no search around it): what a command gets, and each way it can fail.</summary>
public class ExecChildTrainerTests
{
    private static TrainChild Job(int timeoutSeconds = 60) =>
        new(3, NasNetA.Genotype, false, 17, 1, new NasActors.Search.SearchSettings().Search with { TimeoutSeconds = timeoutSeconds }, Rungs: [1, 3]);

    private static TrainOutcome Train(string command, int timeoutSeconds = 60, ConcurrentQueue<(int, int, double?)>? progress = null, CancellationToken cancel = default) =>
        new ExecChildTrainer(command).Train(Job(timeoutSeconds), "cpu", (e, n, a) => progress?.Enqueue((e, n, a)), cancel);

    /// <summary>Gone, or a zombie that only waits to be reaped, within a few seconds.</summary>
    private static bool Ends(int pid) => SpinWait.SpinUntil(() =>
    {
        try
        {
            return !File.Exists($"/proc/{pid}/stat") || File.ReadAllText($"/proc/{pid}/stat").Split(')')[^1].Trim().StartsWith('Z');
        }
        catch (IOException)
        {
            return true;
        }
    }, TimeSpan.FromSeconds(5));

    [Fact]
    public void A_command_gets_the_child_and_its_last_line_is_the_result_and_earlier_lines_the_progress()
    {
        using var dir = new TempDir();
        var seen = Path.Combine(dir.Path, "seen");
        var progress = new ConcurrentQueue<(int, int, double?)>();
        var o = Train($"cat > {seen}.stdin; cp \"$NAS_GENOTYPE_FILE\" {seen}.file; echo \"$NAS_CHILD_ID $NAS_SEED $NAS_DEVICE $NAS_FINAL $NAS_EPOCHS $NAS_RUNGS\" > {seen}.env; echo \"$NAS_GENOTYPE_FILE\" > {seen}.path; " +
                      "echo '{\"epoch\": 1, \"epochs\": 2, \"val_accuracy\": 0.4}'; echo 'some log line'; echo '{\"epoch\": 2, \"epochs\": 2}'; " +
                      "echo '{\"accuracy\": 0.75, \"test_accuracy\": 0.7, \"loss\": 0.5, \"params\": 1234, \"mult_adds\": 5678, \"seconds\": 2.5}'", progress: progress);
        Assert.Null(o.FailureReason);
        Assert.Equal((0.75, 0.7, 0.5, 1234L, 5678L, 2.5), (o.Accuracy, o.TestAccuracy, o.Loss, o.Parameters, o.MultAdds, o.Seconds));
        // An epoch without val_accuracy is progress with nothing measured (never a 0 that early stopping would judge).
        Assert.Equal([(1, 2, 0.4), (2, 2, null)], progress);
        var genotype = GenotypeJson.Write(NasNetA.Genotype);
        Assert.Equal(genotype, File.ReadAllText(seen + ".stdin"));
        Assert.Equal(genotype, File.ReadAllText(seen + ".file"));
        Assert.Equal($"3 17 cpu 0 {Job().Spec.Epochs} 1,3", File.ReadAllText(seen + ".env").Trim());
        Assert.False(File.Exists(File.ReadAllText(seen + ".path").Trim()), "the genotype file outlived the child");
    }

    [Fact]
    public void A_nonzero_exit_fails_the_child_with_its_code_and_the_tail_of_its_standard_error()
    {
        var o = Train("echo 'CUDA out of memory' >&2; exit 3");
        Assert.Equal("exited with code 3; standard error ends with:\nCUDA out of memory", o.FailureReason);
    }

    [Theory]
    [InlineData("true", "got no output")]
    [InlineData("echo 'done'", "got 'done'")]
    [InlineData("echo '{\"accuracy\": 1.5}'", "got '{\"accuracy\": 1.5}'")]
    [InlineData("echo '{\"accuracy\": 0.5, \"params\": -1}'", "got '{\"accuracy\": 0.5, \"params\": -1}'")]
    [InlineData("echo '{\"accuracy\": 0.5, \"test_accuracy\": 2}'", "got '{\"accuracy\": 0.5, \"test_accuracy\": 2}'")]
    public void A_missing_or_invalid_result_line_fails_the_child_naming_what_it_got(string command, string got)
    {
        var o = Train(command);
        Assert.StartsWith("the last line of standard output must be a JSON object with \"accuracy\" in [0, 1]", o.FailureReason);
        Assert.EndsWith(got, o.FailureReason);
    }

    [Fact]
    public void A_command_past_its_timeout_fails_the_child_and_its_whole_process_group_is_killed()
    {
        using var dir = new TempDir();
        var pidFile = Path.Combine(dir.Path, "pid");
        var o = Train($"sleep 60 & echo $! > {pidFile}; echo 'still going' >&2; wait", timeoutSeconds: 1);
        Assert.Equal("timed out after 1 s; standard error ends with:\nstill going", o.FailureReason);
        var pid = int.Parse(File.ReadAllText(pidFile).Trim());
        Assert.True(Ends(pid), "the command's background process outlived the timeout");
    }

    [Fact]
    public void A_stopped_worker_kills_the_command_at_once()
    {
        using var dir = new TempDir();
        var pidFile = Path.Combine(dir.Path, "pid");
        using var cancel = new CancellationTokenSource();
        var training = Task.Run(() => Train($"echo $$ > {pidFile}; sleep 60", cancel: cancel.Token));
        SpinWait.SpinUntil(() => File.Exists(pidFile) && File.ReadAllText(pidFile).Trim().Length > 0, TimeSpan.FromSeconds(30));
        var pid = int.Parse(File.ReadAllText(pidFile).Trim());
        cancel.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => training.GetAwaiter().GetResult());
        Assert.True(Ends(pid), "the command outlived its worker");
    }
}
