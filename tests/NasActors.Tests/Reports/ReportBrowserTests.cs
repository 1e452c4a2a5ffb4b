using System.Diagnostics;
using System.Text.Json;
using Microsoft.Playwright;
using NasActors.Tests.Support;

namespace NasActors.Tests.Reports;

/// <summary>The report and the dashboard of real runs (real nas processes), opened in a real headless Chromium.</summary>
public sealed class ReportBrowserTests
{
    // Fails every child whose id is 3 modulo 7, as a trainer running out of memory would; the
    // others report an accuracy and a size, so that every view of the report has points.
    private const string Trainer = """
        #!/bin/sh
        id=$NAS_CHILD_ID
        if [ $((id % 7)) = 3 ]; then echo "CUDA out of memory on $NAS_DEVICE" >&2; exit 3; fi
        echo "{\"epoch\": 1, \"epochs\": 1, \"val_accuracy\": 0.5}"
        printf '{"accuracy": 0.%02d, "params": %d, "mult_adds": 5000}\n' $((40 + id * 37 % 50)) $((1000 + id * 131 % 900))
        """;

    private const string ChildCountScript = """
        name => { const o = window.nasReport.charts[name].getOption(); return o.series[0].data.length + o.series[1].data.length; }
        """;

    private static (string Run, JsonElement Status) Search(TempDir dir, string name, string strategy, int children)
    {
        var script = Path.Combine(dir.Path, "trainer.sh");
        if (!File.Exists(script)) dir.File("trainer.sh", Trainer);
        var config = dir.File($"{name}.json", """{"ppo_minibatch": 5}""");
        var run = Path.Combine(dir.Path, name);
        var r = NasProcess.Run("search", "--run", run, "--config", config, "--trainer", $"exec:sh {script}", "--children", $"{children}",
            "--workers-per-device", "2", "--strategy", strategy, "--top-k", "2", "--seed", "11", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        return (run, JsonDocument.Parse(r.Stdout).RootElement);
    }

    [Fact]
    public async Task The_report_of_a_run_draws_every_child_and_the_cells_of_the_top_children()
    {
        using var dir = new TempDir();
        var (run, status) = Search(dir, "exp", "ppo", 28);
        Assert.Equal(24, status.GetProperty("completed").GetInt32());
        Assert.Equal(4, status.GetProperty("failed").GetInt32());

        var html = Path.Combine(dir.Path, "report.html");
        var r = NasProcess.Run("report", "--run", run, "--out", html, "--top", "6");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("exp (28 children)", r.Stdout);

        await using var chromium = await Chromium.StartAsync();
        var page = await chromium.OpenAsync(new Uri(html).AbsoluteUri);

        // Every child that finished is one point of both accuracy plots (trained or marked failed).
        Assert.Equal(28, await page.EvaluateAsync<int>(ChildCountScript, "accuracy-index:0"));
        Assert.Equal(28, await page.EvaluateAsync<int>(ChildCountScript, "accuracy-time:0"));
        Assert.Equal(4, await SeriesLength(page, "accuracy-index:0", 1));
        Assert.Equal(24, await SeriesLength(page, "pareto:0", 0));
        Assert.True(await SeriesLength(page, "pareto:0", 1) >= 1);
        // PPO with minibatches of 5 over 28 children: several policy versions, each with its mean reward.
        Assert.True(await SeriesLength(page, "policy:0", 0) >= 2);
        Assert.Equal(13, await SeriesLength(page, "ops-normal:0", 0));
        Assert.Equal(6, await SeriesLength(page, "inputs-reduction:0", 1));
        // One bar per attempt: 28 search trainings and the 2 final ones, on two workers.
        Assert.Equal(30, await SeriesLength(page, "timeline:0", 0));
        Assert.Equal(2, await page.EvaluateAsync<int>("() => window.nasReport.charts['timeline:0'].getOption().yAxis[0].data.length"));

        // Each of the top 6 has both cells drawn: 2 inputs, 3 nodes per block (two ops and the combine), the output.
        Assert.Equal(12, await page.Locator("[data-cell] canvas").CountAsync());
        var nodes = await page.EvaluateAsync<int[]>(
            "() => Object.entries(window.nasReport.charts).filter(([k]) => k.startsWith('cell:')).map(([, c]) => c.getOption().series[0].data.length)");
        Assert.Equal(Enumerable.Repeat(2 + 3 * 5 + 1, 12), nodes);
        // In a 1,400-px window nothing runs past its card: a diagram wider than its column scrolls inside it, whole.
        var fit = await page.EvaluateAsync<double[]>("""
            () => { const cells = [...document.querySelectorAll('[data-cell]')];
                    const past = cells.filter(c => c.parentElement.getBoundingClientRect().right > c.closest('section').getBoundingClientRect().right + 1).length;
                    const cut = cells.filter(c => c.parentElement.scrollWidth + 1 < c.getBoundingClientRect().width).length;
                    const widest = Math.max(...cells.map(c => c.getBoundingClientRect().width / c.parentElement.clientWidth));
                    return [past, cut, document.documentElement.scrollWidth - window.innerWidth, widest]; }
            """);
        Assert.Equal([0, 0], fit[..2]);
        Assert.True(fit[2] <= 0, $"the page is {fit[2]} px wider than the window");
        Assert.True(fit[3] > 1, "no diagram is wider than its column: the test shows nothing about scrolling");
        var failures = page.Locator("section[data-view=failures]");
        Assert.Contains("exited with code 3", await failures.InnerTextAsync());
        await failures.Locator("summary").ClickAsync();
        Assert.Contains("CUDA out of memory", await failures.InnerTextAsync());

        // Clicking a point opens that child's cells.
        await page.Locator("[data-chart='accuracy-index:0']").ScrollIntoViewIfNeededAsync();
        var point = await page.EvaluateAsync<double[]>("""
            () => { const c = window.nasReport.charts['accuracy-index:0']; const p = c.getOption().series[0].data[0];
                    const xy = c.convertToPixel({ seriesIndex: 0 }, [p[0], p[1]]); const r = c.getDom().getBoundingClientRect();
                    return [r.left + xy[0], r.top + xy[1], p[2]]; }
            """);
        await page.Mouse.ClickAsync((float)point[0], (float)point[1]);
        var panel = page.Locator("#child-panel");
        await panel.WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Visible, Timeout = 10_000 });
        Assert.Contains($"child {(int)point[2]}", await panel.InnerTextAsync());
        Assert.Equal(2, await panel.Locator("canvas").CountAsync());

        var png = Path.Combine(dir.Path, "report.png");
        await page.EvaluateAsync("() => document.getElementById('child-panel').hidden = true");
        await page.Mouse.MoveAsync(0, 0);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = png, FullPage = true });
        var bytes = await File.ReadAllBytesAsync(png);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
        Assert.True(bytes.Length > 50_000, $"a screenshot of {bytes.Length} bytes is too small to show the plots");
        Assert.Empty(chromium.Errors);
    }

    [Fact]
    public async Task The_report_of_a_search_of_several_objectives_draws_each_cost_its_front_its_refusals_and_its_hypervolume()
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "mobile");
        var search = NasProcess.Run("search", "--run", run, "--trainer", "synthetic", "--strategy", "evolution", "--children", "16", "--top-k", "2", "--seed", "4",
            "--objectives", "accuracy,mult_adds,params", "--max-mult-adds", "4.5e6", "--json");
        Assert.True(search.ExitCode == 0, search.Stderr);
        var state = new NasActors.Persistence.FolderRunStore(run).ReadState();
        Assert.True(state.Refused > 0, "nothing refused");
        var html = Path.Combine(dir.Path, "report.html");
        var r = NasProcess.Run("report", "--run", run, "--out", html);
        Assert.True(r.ExitCode == 0, r.Stderr);

        await using var chromium = await Chromium.StartAsync();
        var page = await chromium.OpenAsync(new Uri(html).AbsoluteUri);
        var front = NasActors.Search.SearchViews.Front(state).Count;
        foreach (var cost in new[] { "mult_adds", "params" })
        {
            // Every trained child is a point, the front's in a series of its own; the refused ones are marked apart.
            Assert.Equal(16, await page.EvaluateAsync<int>(ChildCountScript, $"cost-{cost}:0"));
            Assert.Equal(front, await SeriesLength(page, $"cost-{cost}:0", 1));
            Assert.Equal(state.Refused, await SeriesLength(page, $"cost-{cost}:0", 2));
        }
        Assert.Equal(4.5e6, await page.EvaluateAsync<double>("() => window.nasReport.charts['cost-mult_adds:0'].getOption().series[1].markLine.data[0].xAxis"));
        // The hypervolume after each trained child, against children and time; its last value is status's.
        Assert.Equal(16, await SeriesLength(page, "hypervolume-children:0", 0));
        Assert.Equal(16, await SeriesLength(page, "hypervolume-time:0", 0));
        Assert.Equal(NasActors.Search.SearchViews.Hypervolume(state)!.Value, await page.EvaluateAsync<double>(
            "() => { const d = window.nasReport.charts['hypervolume-children:0'].getOption().series[0].data; return d[d.length - 1][1]; }"), 6);
        Assert.Equal(state.Refused, await page.EvaluateAsync<int>("() => window.nasReport.model.runs[0].timeline.outcome.filter(o => o === 'refused').length"));
        Assert.Empty(chromium.Errors);
    }

    [Fact]
    public async Task The_report_of_an_early_stopped_run_shows_its_rungs_and_marks_stopped_children_and_their_stops()
    {
        using var dir = new TempDir();
        var config = dir.File("asha.json", """
            {"strategy": "random", "budget": 30, "seed": 3, "top_k": 0, "trainer": "synthetic-curves", "workers_per_device": 2,
             "search": {"epochs": 9}, "early_stop": {"kind": "asha", "grace_epochs": 1, "reduction_factor": 3, "brackets": 1}}
            """);
        var run = Path.Combine(dir.Path, "asha");
        var search = NasProcess.Run("search", "--run", run, "--config", config, "--json");
        Assert.True(search.ExitCode == 0, search.Stderr);
        var state = new NasActors.Persistence.FolderRunStore(run).ReadState();
        Assert.True(state.Stopped > 0 && state.Trained > 0, $"{state.Stopped} stopped, {state.Trained} trained");
        var html = Path.Combine(dir.Path, "report.html");
        var r = NasProcess.Run("report", "--run", run, "--out", html);
        Assert.True(r.ExitCode == 0, r.Stderr);

        await using var chromium = await Chromium.StartAsync();
        var page = await chromium.OpenAsync(new Uri(html).AbsoluteUri);
        // Rungs at epochs 1 and 3 of 9: one box each, holding every value the journal recorded there.
        Assert.Equal(["epoch 1", "epoch 3"], await page.EvaluateAsync<string[]>("() => window.nasReport.charts['rungs:0'].getOption().xAxis[0].data"));
        Assert.Equal(state.Rungs.Values.Values.Select(v => v.Count), await page.EvaluateAsync<int[]>(
            "() => [...document.querySelectorAll('[data-table=rungs] tbody tr')].map(r => +r.cells[2].textContent)"));
        // Stopped children are points of their own (at their rung's value), and stops on the workers' timeline.
        Assert.Equal("stopped early (value at its rung)", await page.EvaluateAsync<string>("() => window.nasReport.charts['accuracy-index:0'].getOption().series[1].name"));
        Assert.Equal(state.Stopped, await SeriesLength(page, "accuracy-index:0", 1));
        Assert.Equal(state.Stopped, await page.EvaluateAsync<int>(
            "() => window.nasReport.model.runs[0].timeline.outcome.filter(o => o === 'stopped').length"));
        Assert.Empty(chromium.Errors);
    }

    [Fact]
    public async Task A_report_of_several_runs_overlays_their_curves()
    {
        using var dir = new TempDir();
        var (ppo, _) = Search(dir, "ppo", "ppo", 14);
        var (random, _) = Search(dir, "random", "random", 14);
        var html = Path.Combine(dir.Path, "compare.html");
        var r = NasProcess.Run("report", "--run", ppo, "--run", random, "--out", html);
        Assert.True(r.ExitCode == 0, r.Stderr);

        await using var chromium = await Chromium.StartAsync();
        var page = await chromium.OpenAsync(new Uri(html).AbsoluteUri);
        Assert.Equal(["ppo", "random"], await page.EvaluateAsync<string[]>("() => window.nasReport.charts['compare-best'].getOption().series.map(s => s.name)"));
        Assert.Equal(14, await SeriesLength(page, "compare-mean", 1));
        Assert.Equal(2, await SeriesLength(page, "compare-top", 0));
        Assert.Equal(14, await page.EvaluateAsync<int>(ChildCountScript, "accuracy-index:1"));
        Assert.Empty(chromium.Errors);
    }

    [Fact]
    public async Task The_dashboard_shows_a_newly_finished_child_without_a_reload()
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "live");
        // Budget far beyond what the test watches (it kills the search): on a loaded machine Chromium's
        // start took longer than 16 children, and a finished search shows no running table.
        using var search = Process.Start(NasProcess.StartInfo("search", "--run", run, "--trainer", "synthetic:700", "--children", "200",
            "--strategy", "random", "--top-k", "0", "--json", "--dashboard", "0"))!;
        try
        {
            var url = await Announced(search);
            Assert.StartsWith("http://127.0.0.1:", url); // localhost unless --host says otherwise

            await using var chromium = await Chromium.StartAsync();
            var page = await chromium.OpenAsync(url);
            await page.EvaluateAsync("() => window.stayed = true");
            var first = await page.EvaluateAsync<int>(ChildCountScript, "accuracy-index:0");
            await page.Locator("table[data-table=running]").WaitForAsync(new LocatorWaitForOptions { Timeout = 20_000 });
            await page.WaitForFunctionAsync($"() => ({ChildCountScript.Trim()})('accuracy-index:0') > {first}", null, new PageWaitForFunctionOptions { Timeout = 30_000 });
            Assert.True(await page.EvaluateAsync<bool>("() => window.stayed === true"), "the page reloaded");
            Assert.True(await page.EvaluateAsync<int>("() => window.nasReport.updates") > 1);
            Assert.Empty(chromium.Errors);
        }
        finally
        {
            if (!search.HasExited) search.Kill(entireProcessTree: true);
        }
        Assert.True(search.WaitForExit(60_000));

        // A dashboard of its own on the killed run: the same views, read-only, and the run shown as
        // stopped (no search writes it any more), not as searching forever.
        using var dashboard = Process.Start(NasProcess.StartInfo("dashboard", "--run", run, "--port", "0"))!;
        try
        {
            await using var chromium = await Chromium.StartAsync();
            var page = await chromium.OpenAsync(await Announced(dashboard));
            Assert.True(await page.EvaluateAsync<int>(ChildCountScript, "accuracy-index:0") >= 1);
            Assert.Contains("stopped (no search writes it)", await page.Locator("section[data-view=summary]").InnerTextAsync());
            Assert.Empty(chromium.Errors);

            // SIGTERM with the page still open: the event stream ends and the server stops at once.
            var clock = Stopwatch.StartNew();
            Process.Start("kill", ["-TERM", $"{dashboard.Id}"])!.WaitForExit();
            // (An open stream held it up for 20 s and more before; a loaded CI machine may take a few seconds.)
            Assert.True(dashboard.WaitForExit(15_000), "the dashboard did not stop with a page open");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(12), $"stopping took {clock.Elapsed.TotalSeconds:F1} s");
            Assert.Equal(0, dashboard.ExitCode);
        }
        finally
        {
            if (!dashboard.HasExited) dashboard.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public void Report_and_dashboard_name_what_is_wrong_in_one_line()
    {
        using var dir = new TempDir();
        var missing = NasProcess.Run("report", "--run", Path.Combine(dir.Path, "nope"), "--out", Path.Combine(dir.Path, "r.html"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("holds no nas run", missing.Stderr);
        Assert.False(File.Exists(Path.Combine(dir.Path, "r.html")));

        var folder = NasProcess.Run("report", "--run", dir.Path, "--out", dir.Path);
        Assert.Equal(2, folder.ExitCode);
        Assert.Contains("--out", folder.Stderr);

        var top = NasProcess.Run("report", "--run", dir.Path, "--out", "x.html", "--top", "0");
        Assert.Equal(2, top.ExitCode);
        Assert.Contains("--top", top.Stderr);

        var host = NasProcess.Run("dashboard", "--run", dir.Path, "--host", "example.org");
        Assert.Equal(2, host.ExitCode);
        Assert.Contains("--host", host.Stderr);

        var notNumber = NasProcess.Run("report", "--run", dir.Path, "--out", "x.html", "--top", "abc");
        Assert.Equal(2, notNumber.ExitCode);
        Assert.Contains("--top: 'abc' is not a whole number", notNumber.Stderr);

        // A real run, to aim the hostile options at.
        var run = Path.Combine(dir.Path, "run");
        Assert.Equal(0, NasProcess.Run("search", "--run", run, "--trainer", "synthetic", "--children", "3", "--top-k", "0", "--json").ExitCode);
        var journal = Path.Combine(run, "journal.db");
        var before = File.ReadAllBytes(journal);
        var overwrite = NasProcess.Run("report", "--run", run, "--out", journal);
        Assert.Equal(2, overwrite.ExitCode);
        Assert.Contains("is not a nas report; it is left alone", overwrite.Stderr);
        Assert.Equal(before, File.ReadAllBytes(journal));

        var twice = NasProcess.Run("report", "--run", run, "--run", run + "/", "--out", Path.Combine(dir.Path, "r.html"));
        Assert.Equal(2, twice.ExitCode);
        Assert.Contains("is given twice", twice.Stderr);

        // An address that is not this machine's: one line, nothing listens.
        var elsewhere = NasProcess.Run("dashboard", "--run", run, "--port", "0", "--host", "10.99.99.99");
        Assert.Equal(1, elsewhere.ExitCode);
        Assert.Contains("10.99.99.99:0: cannot listen", elsewhere.Stderr);
        foreach (var r in new[] { missing, folder, top, host, notNumber, overwrite, twice, elsewhere })
            Assert.Single(r.Stderr.Trim().Split('\n'));
    }

    private static Task<int> SeriesLength(IPage page, string chart, int series) =>
        page.EvaluateAsync<int>($"() => window.nasReport.charts['{chart}'].getOption().series[{series}].data.length");

    /// <summary>The address a nas process prints when its dashboard listens.</summary>
    private static async Task<string> Announced(Process nas)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (await nas.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            if (line.StartsWith("dashboard: ", StringComparison.Ordinal)) return line["dashboard: ".Length..];
        throw new InvalidOperationException($"nas exited ({nas.ExitCode}) without a dashboard: {await nas.StandardError.ReadToEndAsync()}");
    }
}
