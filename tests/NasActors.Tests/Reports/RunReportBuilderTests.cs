using NasActors.Reports;
using NasActors.Persistence;
using NasActors.Search;
using NasActors.Search.Events;
using NasActors.SearchSpace;

namespace NasActors.Tests.Reports;

public sealed class RunReportBuilderTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);
    private static readonly int[] Decisions = new DecisionSpace().Encode(NasNetA.Genotype);

    [Fact]
    public void Cells_are_coded_block_by_block_in_base_36_with_their_output()
    {
        // NASNet-A's normal cell, written out by hand: sep_conv_5x5 is op 11 (b), sep_conv_3x3 10 (a), avg_pool_3x3 4.
        Assert.Equal("01ba0" + "11ba0" + "01400" + "11440" + "00a00" + "|123456", CellCode.Encode(NasNetA.Normal));
        var concat = new Cell([new Block(1, 0, Op.MaxPool7x7, Op.Conv1x1, Combine.Concat)], [2]);
        Assert.Equal("10781|2", CellCode.Encode(concat));
        // 40 blocks: 42 states do not fit one digit each.
        var deep = new Cell(Enumerable.Range(0, 40).Select(k => new Block(k + 1, 0, Op.Identity, Op.SepConv7x7, Combine.Add)), [41]);
        Assert.StartsWith("1.0.0.c.0.2.0.0.c.0.", CellCode.Encode(deep));
        Assert.EndsWith("|15.", CellCode.Encode(deep));
    }

    [Fact]
    public void Running_best_and_moving_mean_skip_children_without_a_result()
    {
        double?[] acc = [null, 0.5, null, 0.7, 0.6, 0.2];
        Assert.Equal([null, 0.5, 0.5, 0.7, 0.7, 0.7], RunReportBuilder.RunningBest(acc));
        var mean = RunReportBuilder.MovingMean(acc, 3);
        Assert.Equal([null, 0.5, 0.5, 0.6, 0.65, 0.5], mean.Select(m => m is { } v ? Math.Round(v, 10) : (double?)null));
    }

    [Fact]
    public void The_Pareto_front_keeps_only_children_nothing_beats_on_size_and_accuracy()
    {
        var front = RunReportBuilder.ParetoFront([(1, 100, 0.5), (2, 100, 0.6), (3, 50, 0.4), (4, 200, 0.55), (5, 300, 0.9), (6, 300, 0.9)]);
        Assert.Equal([3L, 2, 5], front);
    }

    [Fact]
    public void Distribution_quartiles_interpolate_between_values()
    {
        var d = RunReportBuilder.Summarize([4, 1, 3, 2, 5]);
        Assert.Equal(new Distribution(5, 1, 2, 3, 4, 5), d);
        Assert.Equal(new Distribution(2, 1, 1.25, 1.5, 1.75, 2), RunReportBuilder.Summarize([2, 1]));
    }

    [Fact]
    public void A_journal_folds_into_children_policy_usage_and_worker_spans()
    {
        var events = Journal(
            (0, new SearchStarted(new SearchSettings { Budget = 4, Strategy = "ppo", TopK = 1 }, T0)),
            (0, new ChildSampled(0, NasNetA.Genotype, Decisions, -2.0, 0)),
            (1, new ChildAssigned(0, false, "w1", 1)),
            (0, new ChildSampled(1, NasNetA.Genotype, Decisions, -4.0, 0)),
            (1, new ChildAssigned(1, false, "w2", 1)),
            (5, new ChildTrained(0, "w1", 0.8, 0.3, 1000, 5000, 4)),
            // w2 vanished: its child goes back and w1 trains it.
            (6, new ChildRequeued(1, false, "worker gone")),
            (6, new ChildAssigned(1, false, "w1", 2)),
            (9, new ChildFailed(1, "w1", "NaN loss at epoch 1\nmore detail")),
            (9, new PolicyUpdated(1, 2)),
            (9, new ChildSampled(2, NasNetA.Genotype, Decisions, -6.0, 1)),
            (10, new ChildAssigned(2, false, "w1", 1)),
            (12, new ChildTrained(2, "w1", 0.9, 0.2, 500, 2000, 2)),
            (12, new ChildSampled(3, NasNetA.Genotype, Decisions, -6.0, 1)),
            (13, new ChildAssigned(3, false, "w2", 1)));

        var r = RunReportBuilder.Build("exp", events, T0.AddSeconds(20), top: 5, progress: new Dictionary<long, (int, int)> { [3] = (1, 3) });

        Assert.Equal([0L, 1, 2, 3], r.Children.Id);
        Assert.Equal(["trained", "failed", "trained", "running"], r.Children.Status);
        Assert.Equal([0.8, null, 0.9, null], r.Children.Accuracy);
        Assert.Equal([5.0, 9, 12, null], r.Children.FinishedS);
        Assert.Equal([0.8, 0.8, 0.9, 0.9], r.Children.RunningBest);
        Assert.Equal([0, 0, 1, 1], r.Children.PolicyVersion);
        // The cells each child trained: what its decisions decode to (NASNet-A's, with the outputs no block uses as its concat).
        Assert.All(r.Children.Normal, c => Assert.Equal(CellCode.Encode(new DecisionSpace().Decode(Decisions).Normal), c));

        // Policy: version 0 sampled children 0 and 1 (one trained), version 1 children 2 and 3.
        Assert.Equal([new PolicyPoint(0, 2, 1, 0.8, 3.0), new PolicyPoint(1, 2, 1, 0.9, 6.0)], r.Policy);
        Assert.Equal([2L], r.ParetoFront); // child 2 is smaller and better than child 0
        Assert.Equal([2L, 0], r.Top.Select(t => t.ChildId));

        Assert.Equal(["w1", "w2"], r.Workers);
        Assert.Equal(
            [new WorkerSpan(0, 0, false, 1, 5, "trained"), new WorkerSpan(1, 1, false, 1, 6, "requeued"), new WorkerSpan(0, 1, false, 6, 9, "failed"),
             new WorkerSpan(0, 2, false, 10, 12, "trained"), new WorkerSpan(1, 3, false, 13, null, "running")],
            r.Timeline.Rows);
        Assert.Equal([new RunningNow(3, false, "w2", 13, 1, 3)], r.Running);
        var failure = Assert.Single(r.Failures);
        Assert.Equal(("NaN loss at epoch 1", 1, "NaN loss at epoch 1\nmore detail"), (failure.Reason, failure.Count, failure.Example));
        Assert.Equal([1L], failure.ChildIds);

        // Usage: NASNet-A's normal cell has 10 op slots: sep_conv_5x5 twice, sep_conv_3x3 three times, avg_pool_3x3 three times, identity twice.
        Assert.Equal(0.2, r.NormalUsage.OpAll[SearchSpaces.NasNet.OpIndex(Op.SepConv5x5)], 10);
        Assert.Equal(0.3, r.NormalUsage.OpAll[SearchSpaces.NasNet.OpIndex(Op.SepConv3x3)], 10);
        Assert.Equal(0.3, r.NormalUsage.OpAll[SearchSpaces.NasNet.OpIndex(Op.AvgPool3x3)], 10);
        Assert.Equal(0.2, r.NormalUsage.OpAll[SearchSpaces.NasNet.OpIndex(Op.Identity)], 10);
        Assert.Equal(r.NormalUsage.OpAll, r.NormalUsage.OpTop);
        Assert.Equal(["h[i]", "h[i-1]", "b0", "b1", "b2", "b3"], r.NormalUsage.Inputs);
        Assert.Equal(0.4, r.ReductionUsage.InputAll[0], 10); // h[i] feeds 4 of the reduction cell's 10 inputs
        Assert.Equal(1, r.NormalUsage.TopCount);
        Assert.Equal(new Distribution(1, 0.9, 0.9, 0.9, 0.9, 0.9), r.TopAccuracies);
        Assert.Equal(2, r.Summary.Completed);
    }

    [Fact]
    public void A_darts_run_reports_the_usage_of_its_own_ops_and_four_blocks()
    {
        var space = new DecisionSpace(SearchSpaces.Darts, 4);
        var events = Journal(
            (0, new SearchStarted(new SearchSettings { Budget = 1, Space = "darts", TopK = 0 }, T0)),
            (0, new ChildSampled(0, PublishedCells.DartsV2, space.Encode(PublishedCells.DartsV2), -2.0, 0)),
            (1, new ChildAssigned(0, false, "w1", 1)),
            (5, new ChildTrained(0, "w1", 0.8, 0.3, 1000, 5000, 4)));
        var r = RunReportBuilder.Build("darts", events, T0.AddSeconds(20), top: 5);
        Assert.Equal(["sep_conv_3x3", "sep_conv_5x5", "dil_sep_conv_3x3", "dil_sep_conv_5x5", "max_pool_3x3", "avg_pool_3x3", "skip_connect"], r.NormalUsage.Ops);
        // DARTS V2's normal cell: five sep_conv_3x3, two skip_connect, one dil_conv_3x3 in 8 slots.
        Assert.Equal([5 / 8.0, 0, 1 / 8.0, 0, 0, 0, 2 / 8.0], r.NormalUsage.OpAll);
        Assert.Equal(["h[i]", "h[i-1]", "b0", "b1", "b2"], r.NormalUsage.Inputs);
    }

    [Fact]
    public void Unhealthy_devices_are_spans_from_the_failed_check_to_the_passed_one_and_the_workers_say_their_health_now()
    {
        var events = Journal(
            (0, new SearchStarted(new SearchSettings { Budget = 2 }, T0)),
            (0, new ChildSampled(0, NasNetA.Genotype, Decisions, -2.0, 0)),
            (1, new ChildAssigned(0, false, "h:1/cpu#0", 1)),
            (2, new WorkerUnhealthy("h:1/cpu#0", "cpu: dense convolutions compute wrong")),
            (2, new ChildRequeued(0, false, "the worker's device is unhealthy")),
            (3, new ChildAssigned(0, false, "h:2/cpu#0", 2)),
            (4, new WorkerUnhealthy("h:3/cpu#0", "cpu: depthwise convolutions compute wrong")), // never given work
            (5, new WorkerRecovered("h:1/cpu#0")),
            (6, new ChildTrained(0, "h:2/cpu#0", 0.5, 1, 10, 20, 3)));

        var r = RunReportBuilder.Build("exp", events, T0.AddSeconds(10));

        Assert.Equal([new HealthSpan(0, 2, 5, "cpu: dense convolutions compute wrong"), new HealthSpan(2, 4, null, "cpu: depthwise convolutions compute wrong")],
            r.Unhealthy);
        var workers = RunReportBuilder.Workers(r);
        Assert.Equal(["h:1/cpu#0", "h:2/cpu#0", "h:3/cpu#0"], workers.Select(w => w.Worker));
        Assert.Equal(["healthy", "healthy", "unhealthy"], workers.Select(w => w.Health));
        Assert.Equal([null, null, "cpu: depthwise convolutions compute wrong"], workers.Select(w => w.Problem));
        Assert.Equal([0, 1, 0], workers.Select(w => w.Trained));
        Assert.Equal(1, workers[0].Requeued);
    }

    [Fact]
    public void A_journal_without_a_started_search_is_refused_by_name()
    {
        var e = Assert.Throws<RunStoreException>(() => RunReportBuilder.Build("exp", [], T0));
        Assert.Contains("exp", e.Message);
    }

    [Fact]
    public void The_page_holds_the_model_as_JSON_that_no_value_can_break_out_of()
    {
        var events = Journal(
            (0, new SearchStarted(new SearchSettings { Budget = 1 }, T0)),
            (0, new ChildSampled(0, NasNetA.Genotype, Decisions, -2.0, 0)),
            (1, new ChildAssigned(0, false, "w1", 1)),
            (2, new ChildFailed(0, "w1", "</script><script>alert(1)</script>")));
        var html = ReportPage.Render(new ReportModel([RunReportBuilder.Build("<b>run</b>", events, T0)], T0, false, OpNames.AllNames));
        Assert.DoesNotContain("<script>alert", html);
        Assert.DoesNotContain("<b>run</b>", html);
        Assert.Contains("NasActors: &lt;b&gt;run&lt;/b&gt;", html);
        Assert.DoesNotContain("{{", html.Replace("{{ECHARTS}}", "", StringComparison.Ordinal)[..2000]);
        Assert.Contains("Licensed to the Apache Software Foundation", html); // ECharts is inline, with its licence: the page needs no network
        Assert.DoesNotContain("<script src", html);
    }

    private static List<StoredEvent> Journal(params (double Seconds, ISearchEvent Event)[] entries) =>
        entries.Select((e, i) => new StoredEvent(i + 1, T0.AddSeconds(e.Seconds), e.Event)).ToList();
}
