using System.CommandLine;
using NasActors.Protocol;
using NasActors.Runs;
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
        var command = new Command("top", "List a run's best children") { k, json };
        run.AddTo(command);
        command.SetAction(parse => CommandErrors.Guard(() =>
        {
            if (parse.GetValue(k) < 1) throw new InputException("-k", "must be at least 1");
            var store = run.Open(parse);
            Render(store, store.ReadStarted(), parse.GetValue(k), parse.GetValue(json));
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>The best <paramref name="k"/> children; the hints name the run as the user named it.</summary>
    public static void Render(RunStore store, SearchState state, int k, bool json)
    {
        var top = SearchViews.Top(state, k);
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
        if (top.Count > 0)
            Output.Stdout.WriteLine($"best cell (./nas export {RunOption.Options(store)} --rank 1 for its JSON):\n{GenotypeText.Format(top[0].Genotype)}");
        else if (state.Failed > 0)
            Output.Stdout.WriteLine($"no child trained: {state.Failed} failed; ./nas failures {RunOption.Options(store)} says why");
    }
}
