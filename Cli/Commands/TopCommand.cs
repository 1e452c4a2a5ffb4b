using System.CommandLine;
using NasActors.Protocol;
using NasActors.Persistence;
using NasActors.Search;
using NasActors.SearchSpace;
using Spectre.Console;

namespace NasActors.Cli.Commands;

/// <summary><c>nas top</c>: the best children of a run, from its journal.</summary>
public static class TopCommand
{
    public static Command Create()
    {
        var run = new RunOption();
        var k = new Option<int>("-k", "--top") { Description = "how many", DefaultValueFactory = _ => 10 };
        var json = new Option<bool>("--json") { Description = "print a JSON array, best first" };
        var all = new Option<bool>("--all") { Description = "also list the children stopped early, with the rung they reached and their value there (they are never ranked)" };
        var pareto = new Option<bool>("--pareto") { Description = "list the non-dominated trained children of a search of several objectives (--objectives), with every objective" };
        var command = new Command("top", "List a run's best children") { k, json, all, pareto };
        run.AddTo(command);
        command.SetAction(parse => CommandErrors.Guard(() =>
        {
            if (parse.GetValue(k) < 1) throw new InputException("-k", "must be at least 1");
            var store = run.Open(parse);
            var state = store.ReadStarted();
            if (parse.GetValue(pareto))
            {
                if (parse.GetValue(all)) throw new InputException("--pareto", "lists trained children only; leave out --all");
                if (state.Objectives is null)
                    throw new InputException("--pareto", $"{store.Name} searches accuracy alone (no --objectives): its front is its best child, ./nas top {RunOption.Options(store)} -k 1");
                RenderFront(store, state, parse.GetValue(json));
                return ExitCodes.Ok;
            }
            Render(store, state, parse.GetValue(k), parse.GetValue(json), parse.GetValue(all));
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>The best <paramref name="k"/> children; the hints name the run as the user named it.</summary>
    /// <param name="all">Also the children stopped early (after the ranked ones, in JSON as rows with <c>stopped_at</c>).</param>
    public static void Render(RunStore store, SearchState state, int k, bool json, bool all = false)
    {
        var top = SearchViews.Top(state, k);
        var stopped = all ? SearchViews.Stopped(state) : [];
        if (json && all)
        {
            Output.Rows(top.Select(e => new AnyChild(e.Rank, e.ChildId, e.Accuracy, null, GenotypeText.FormatCompact(e.Genotype)))
                .Concat(stopped.Select(e => new AnyChild(null, e.ChildId, e.Accuracy, e.Epoch, GenotypeText.FormatCompact(state.Genotype(e.ChildId)))))
                .ToList(), json: true);
            return;
        }
        if (json)
        {
            JsonRows(top);
            return;
        }
        Table(top, state);
        if (stopped.Count > 0)
        {
            Output.Stdout.WriteLine($"stopped early ({stopped.Count}; not ranked: they did not train their full {state.Settings!.Search.Epochs} epochs):");
            Output.Rows(stopped, json: false, ("child", e => $"{e.ChildId}"), ("stopped at epoch", e => $"{e.Epoch}"), ("val accuracy there", e => $"{e.Accuracy:P2}"));
        }
        if (top.Count > 0)
            Output.Stdout.WriteLine($"best cell (./nas export {RunOption.Options(store)} --rank 1 for its JSON):\n{GenotypeText.Format(top[0].Genotype)}");
        else if (state.Stopped > 0)
            Output.Stdout.WriteLine($"no child trained its full budget yet: {state.Stopped} stopped early; ./nas top {RunOption.Options(store)} --all lists them");
        else if (state.Failed > 0)
            Output.Stdout.WriteLine($"no child trained: {state.Failed} failed; ./nas failures {RunOption.Options(store)} says why");
    }

    /// <summary>The front: every non-dominated trained child, best accuracy first, with every objective.</summary>
    private static void RenderFront(RunStore store, SearchState state, bool json)
    {
        var front = SearchViews.Front(state);
        if (json)
        {
            JsonRows(front);
            return;
        }
        Table(front, state);
        var hv = SearchViews.Summary(state, DateTimeOffset.UtcNow);
        Output.Stdout.WriteLine(front.Count == 0
            ? $"no child trained yet{(state.Refused > 0 ? $" ({state.Refused} refused over the bounds)" : "")}"
            : $"{front.Count} non-dominated of {state.Trained} trained ({hv.Objectives}); hypervolume {hv.Hypervolume:F4} against {hv.Reference}");
    }

    private static void JsonRows(IReadOnlyList<RankedChild> rows) =>
        Output.Rows(rows.Select(e => new TopRow(e.Rank, e.ChildId, e.Accuracy, e.Params, e.MultAdds, e.FinalAccuracy, e.FinalTestAccuracy, GenotypeText.FormatCompact(e.Genotype))
        {
            LatencyMs = e.LatencyMs,
        }).ToList(), json: true);

    /// <summary>A row of <c>nas top --json</c>; <c>latency_ms</c> only where it was measured.</summary>
    private sealed record TopRow(int Rank, long ChildId, double Accuracy, long Params, long MultAdds, double? FinalAccuracy, double? FinalTestAccuracy, string Genotype)
    {
        [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
        public double? LatencyMs { get; init; }
    }

    private static void Table(IReadOnlyList<RankedChild> rows, SearchState state)
    {
        var latency = rows.Any(r => r.LatencyMs is not null);
        var device = rows.Select(r => state.Children[r.ChildId].Search.Outcome?.LatencyDevice).FirstOrDefault(d => d is not null);
        (string, Func<RankedChild, string>)[] columns =
        [
            ("rank", e => $"{e.Rank}"), ("child", e => $"{e.ChildId}"), ("val accuracy", e => $"{e.Accuracy:P2}"), ("params", e => $"{e.Params:N0}"),
            ("mult-adds", e => $"{e.MultAdds:N0}"),
            .. latency ? new (string, Func<RankedChild, string>)[] { ($"latency ms ({device})", e => e.LatencyMs is { } l ? $"{l:F2}" : "-") } : [],
            ("final val / test", e => e.FinalAccuracy is { } f ? $"{f:P2} / {e.FinalTestAccuracy:P2}" : "-"),
        ];
        Output.Rows(rows, json: false, columns);
    }

    /// <summary>A row of <c>nas top --all --json</c>: a ranked child (<c>stopped_at</c> null) or one stopped at that epoch (<c>rank</c> null).</summary>
    private sealed record AnyChild(int? Rank, long ChildId, double Accuracy, int? StoppedAt, string Genotype);
}
