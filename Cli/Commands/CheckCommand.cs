using System.CommandLine;
using System.Text.Json;
using NasActors.Training;
using NasActors.Training.Kernels;
using NasActors.Protocol;
using NasActors.Protocol.Messages;
using NasActors.Tensors;
using Spectre.Console;

namespace NasActors.Cli.Commands;

/// <summary>
/// <c>nas check</c>: the known-answer check of every kernel family on each device against float64;
/// exit 0 when every kernel in use computes right, 1 naming the kernel and shape otherwise.
/// </summary>
public static class CheckCommand
{
    public static Command Create()
    {
        var devices = new Option<string?>("--devices") { Description = "comma-separated devices: cpu, cuda:0, ... (default cpu)" };
        var precisions = new Option<string?>("--precision") { Description = "comma-separated precisions to check: fp32, bf16 (default fp32)" };
        var channelsLast = new Option<bool>("--channels-last") { Description = "check networks that run channels-last (NHWC)" };
        var json = new Option<bool>("--json") { Description = "print the checks as JSON" };
        var command = new Command("check",
            $"Check each device's kernels against float64 (training: forward and both gradients; eval mode at the evaluation batch: forward); exit 0 when every kernel in use is right, 1 otherwise. {DeviceKernels.ModeVariable}=auto|onednn|native chooses the CPU convolutions")
        {
            devices, precisions, channelsLast, json,
        };
        command.SetAction(parse => CommandErrors.Guard(() =>
        {
            var names = (parse.GetValue(devices) ?? "cpu").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var wanted = (parse.GetValue(precisions) ?? "fp32").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(p => p == "fp16" ? throw new InputException("--precision", "fp16 is checked on CUDA devices by training; check fp32 or bf16")
                    : TrainingSpec.Precisions.Contains(p) ? Precisions.Parse(p)
                    : throw new InputException("--precision", $"unknown precision \"{p}\" (expected fp32 or bf16)")).Distinct().ToArray();
            if (names.Length == 0) throw new InputException("--devices", "no device named");
            // Every device is resolved before any check runs: a missing one is one line.
            var resolved = names.Select(n => (Name: n, Device: OptionErrors.Device("--devices", n))).ToArray();
            var checks = resolved.SelectMany(d => wanted.Select(p => DeviceKernels.Check(d.Device, p, parse.GetValue(channelsLast)))).ToArray();
            if (parse.GetValue(json))
                Console.Out.WriteLine(JsonSerializer.Serialize(checks.Select(ToJson), Json.Options));
            else
                Print(checks);
            var bad = checks.FirstOrDefault(c => !c.Healthy);
            return bad is null ? ExitCodes.Ok : ExitCodes.Fail(ExitCodes.Unreadable, $"{bad.Problem}");
        }));
        return command;
    }

    /// <summary>One row per kernel family and path tried: its largest error, and whether it is in use.</summary>
    public sealed record FamilyRow(string Family, string? Path, int Cases, double LargestError, string Worst, bool Right, bool InUse);

    public static IEnumerable<FamilyRow> Rows(DeviceCheck check) =>
        check.Results.GroupBy(r => (r.Case.Family, r.Path)).Select(g =>
        {
            var worst = g.MaxBy(r => r.Worst)!;
            var inUse = g.Key.Path is not { } path || (check.Plan is { } plan && worst.Case.Conv is { } conv && plan.For(conv.Kind) == path);
            return new FamilyRow(g.Key.Family, g.Key.Path is { } p ? KernelPlan.Name(p) : null, g.Count(), worst.Worst,
                worst.Right ? worst.Case.ToString() : $"{worst.Case}: {worst.Wrong}", g.All(r => r.Right), inUse && check.Healthy);
        });

    private static object ToJson(DeviceCheck c) => new
    {
        device = c.Device,
        precision = c.Precision.Name(),
        mode = c.Mode.ToString().ToLowerInvariant(),
        healthy = c.Healthy,
        problem = c.Problem,
        kernels = c.Plan?.ToString(),
        seconds = Math.Round(c.Seconds, 3),
        families = Rows(c).Select(r => new
        {
            family = r.Family, path = r.Path, cases = r.Cases, largest_error = Finite(r.LargestError),
            right = r.Right, in_use = r.InUse, worst_case = r.Worst,
        }),
        // Every case run, with what it compared: training (forward, both gradients) or eval (forward, running statistics).
        cases = c.Results.Select(r => new
        {
            family = r.Case.Family, path = r.Path is { } p ? KernelPlan.Name(p) : null, @case = r.Case.ToString(), mode = r.Case.Mode,
            batch = r.Case.Batch, images_compared = r.ImagesCompared, output_error = Finite(r.Output),
            input_gradient_error = r.Case.InputGrad ? Finite(r.InputGradient) : null,
            weight_gradient_error = r.Case.Eval ? null : Finite(r.WeightGradient), right = r.Right,
        }),
    };

    /// <summary>JSON has no NaN or infinity: a value that is not finite is null (the verdict says wrong).</summary>
    private static double? Finite(double error) => double.IsFinite(error) ? error : null;

    private static void Print(IEnumerable<DeviceCheck> checks)
    {
        foreach (var c in checks)
        {
            var table = new Table().Title($"{c.Device} {c.Precision.Name()} ({DeviceKernels.ModeVariable}={c.Mode.ToString().ToLowerInvariant()}, {c.Seconds:F2} s)")
                .AddColumns("kernel family", "path", "cases", "largest error", "verdict", "worst case");
            foreach (var r in Rows(c))
                table.AddRow(Markup.Escape(r.Family), r.Path ?? "", $"{r.Cases}", CaseResult.Describe(r.LargestError),
                    r.Right ? (r.InUse ? "[green]right, in use[/]" : "right") : r.InUse ? "[red]WRONG, in use[/]" : "[yellow]wrong, not used[/]",
                    Markup.Escape(r.Worst));
            Output.Stdout.Write(table);
            Console.Out.WriteLine(c.Healthy ? $"{c.Device} {c.Precision.Name()}: every kernel in use is right ({c.Plan})" : $"{c.Device} {c.Precision.Name()}: {c.Problem}");
        }
    }
}
