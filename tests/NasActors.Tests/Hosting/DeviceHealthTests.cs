using System.Diagnostics;
using System.Text.Json;
using NasActors.Training.Kernels;
using NasActors.Reports;
using NasActors.Persistence;
using NasActors.Search;
using NasActors.Search.Events;
using NasActors.Tests.Support;
using Xunit.Abstractions;

using static NasActors.Tests.Support.ClusterProcesses;

namespace NasActors.Tests.Hosting;

/// <summary>
/// A trainer node whose device starts computing wrong in the middle of a search, and later right
/// again (real nas processes; the fault is the test-only switch, bound to a file the test creates
/// and deletes).
/// </summary>
public sealed class DeviceHealthTests(ITestOutputHelper output)
{
    private const int Budget = 14;

    [Fact]
    public async Task A_device_that_drifts_takes_no_work_gives_no_reward_and_comes_back_once_it_passes_again()
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        var drift = Path.Combine(dir.Path, "drift");
        // Children of a few seconds each: one epoch on a few hundred images.
        var config = dir.File("config.json", JsonSerializer.Serialize(new SearchSettings
        {
            Strategy = "random", Seed = 3, Budget = Budget, TopK = 0,
            Search = new SearchSettings().Search with { Epochs = 1, TrainLimit = 256, ValidationSize = 128 },
        }, NasActors.Persistence.SettingsJson.Options));
        var checks = dir.File("checks.hocon", "nas.trainer.device-check-every = 2s\nnas.trainer.unhealthy-check-every = 1s\n");
        var port = FreePort();
        var seed = $"127.0.0.1:{port}";
        using var search = Start(SeedSearch(seed, "--run", run, "--config", config, "--json"));
        var stdout = search.StandardOutput.ReadToEndAsync();
        var stderr = search.StandardError.ReadToEndAsync();
        using var good = Start("node", "--join", seed);
        var start = NasProcess.StartInfo("node", "--join", seed, "--hocon", checks);
        start.Environment[KernelFaults.Variable] = $"cpu:dense@{drift}";
        using var drifting = Process.Start(start)!;
        try
        {
            await Announced(good);
            await Announced(drifting);
            _ = good.StandardError.ReadToEndAsync();
            var driftingLog = drifting.StandardError.ReadToEndAsync();
            var worker = $"{Environment.MachineName}:{drifting.Id}/cpu#0";

            // It trains right first; then its dense convolutions go wrong.
            await WaitFor(run, s => s.Children.Values.Any(c => c.Search is { Status: JobStatus.Trained } j && j.WorkerId == worker), TimeSpan.FromMinutes(2));
            File.WriteAllText(drift, "");
            var clock = Stopwatch.StartNew();
            await WaitFor(run, s => s.UnhealthyReason(worker) is not null, TimeSpan.FromSeconds(60));
            output.WriteLine($"found unhealthy {clock.Elapsed.TotalSeconds:F1} s after the fault began (checks every 2 s)");

            // Shown as such, with what its check found; it stays so while the fault lasts.
            var workers = NasProcess.Run("workers", "--run", run, "--json");
            Assert.True(workers.ExitCode == 0, workers.Stderr);
            var row = JsonDocument.Parse(workers.Stdout).RootElement.EnumerateArray().Single(w => w.GetProperty("worker").GetString() == worker);
            Assert.Equal("unhealthy", row.GetProperty("health").GetString());
            Assert.Contains("dense convolutions compute wrong on every path", row.GetProperty("problem").GetString());
            await Task.Delay(TimeSpan.FromSeconds(3));
            Assert.NotNull(new FolderRunStore(run).ReadState().UnhealthyReason(worker));

            // Right again: it passes its next check and takes work.
            File.Delete(drift);
            clock.Restart();
            await WaitFor(run, s => s.UnhealthyReason(worker) is null, TimeSpan.FromSeconds(60));
            output.WriteLine($"back {clock.Elapsed.TotalSeconds:F1} s after the fault ended");

            Assert.True(search.WaitForExit(TimeSpan.FromMinutes(4)), "the search did not finish");
            Assert.True(search.ExitCode == 0, await stderr);
            Assert.Equal(Budget, JsonDocument.Parse(await stdout).RootElement.GetProperty("completed").GetInt32());

            var events = new FolderRunStore(run).ReadStoredEvents();
            var trained = JournalAssert.EachTrainedOnce(events.Select(e => e.Event), Budget);
            // No reward from the device between the check that failed and the one that passed.
            var found = events.Single(e => e.Event is WorkerUnhealthy u && u.WorkerId == worker).SequenceNr;
            var back = events.Single(e => e.Event is WorkerRecovered r && r.WorkerId == worker).SequenceNr;
            Assert.DoesNotContain(events, e => e.SequenceNr > found && e.SequenceNr < back && e.Event is ChildTrained t && t.WorkerId == worker);
            Assert.DoesNotContain(events, e => e.SequenceNr > found && e.SequenceNr < back && e.Event is ChildAssigned a && a.WorkerId == worker);

            // The report's timeline holds the episode, start to end, with the reason.
            var report = RunReportBuilder.Build("run", events, DateTimeOffset.UtcNow, writing: false);
            var span = Assert.Single(report.Unhealthy);
            Assert.Equal(worker, report.Workers[span.Worker]);
            Assert.True(span.EndS > span.StartS);
            Assert.Contains("dense", span.Reason);
            Assert.All(RunReportBuilder.Workers(report), w => Assert.Equal("healthy", w.Health));

            // The page shows it: a row per episode, and a bar on the worker's line of the timeline.
            var html = Path.Combine(dir.Path, "report.html");
            var r = NasProcess.Run("report", "--run", run, "--out", html);
            Assert.True(r.ExitCode == 0, r.Stderr);
            await using (var chromium = await Chromium.StartAsync())
            {
                var page = await chromium.OpenAsync(new Uri(html).AbsoluteUri);
                var cells = await page.Locator("table[data-table=unhealthy] tbody tr td").AllInnerTextsAsync();
                Assert.Equal(worker, cells[0]);
                Assert.Contains("dense convolutions compute wrong", cells[3]);
                Assert.Equal(1, await page.EvaluateAsync<int>(
                    "() => Object.entries(window.nasReport.charts).find(([k]) => k.startsWith('timeline:'))[1].getOption().series[0].data.filter(d => d.value[5] === 'unhealthy').length"));
                Assert.Empty(chromium.Errors);
            }

            Assert.Equal(0, StopsOnSigterm(drifting));
            Assert.Contains("device unhealthy", await driftingLog);
        }
        finally
        {
            foreach (var p in new[] { search, good, drifting })
                if (!p.HasExited) p.Kill();
        }
    }
}
