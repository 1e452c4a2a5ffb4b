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
        var command = new Command("top", "List a run's best children") { k, json, all };
        run.AddTo(command);
        command.SetAction(parse => CommandErrors.Guard(() =>
        {
            if (parse.GetValue(k) < 1) throw new InputException("-k", "must be at least 1");
            var store = run.Open(parse);
            var state = store.ReadStarted();
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
            Output.Rows(top.Select(e => new
            {
                e.Rank, e.ChildId, e.Accuracy, e.Params, e.MultAdds, e.FinalAccuracy, e.FinalTestAccuracy, Genotype = GenotypeText.FormatCompact(e.Genotype),
            }).ToList(), json: true);
            return;
        }
        Output.Rows(top, json: false,
            ("rank", e => $"{e.Rank}"), ("child", e => $"{e.ChildId}"), ("val accuracy", e => $"{e.Accuracy:P2}"), ("params", e => $"{e.Params:N0}"),
            ("final val / test", e => e.FinalAccuracy is { } f ? $"{f:P2} / {e.FinalTestAccuracy:P2}" : "-"));
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

    /// <summary>A row of <c>nas top --all --json</c>: a ranked child (<c>stopped_at</c> null) or one stopped at that epoch (<c>rank</c> null).</summary>
    private sealed record AnyChild(int? Rank, long ChildId, double Accuracy, int? StoppedAt, string Genotype);
}
