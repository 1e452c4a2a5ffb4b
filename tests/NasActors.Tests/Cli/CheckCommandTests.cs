using System.Text.Json;
using NasActors.Training.Kernels;
using NasActors.Tests.Support;

namespace NasActors.Tests.Cli;

/// <summary>
/// <c>nas check</c> and the fallback, with a fault injected (test-only switch) so that every CPU
/// shows what a machine that computes wrong does.
/// </summary>
public class CheckCommandTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    private static NasProcess.Result Check(string? fault, string? mode, params string[] args)
    {
        var env = new Dictionary<string, string>();
        if (fault is not null) env[KernelFaults.Variable] = fault;
        if (mode is not null) env[DeviceKernels.ModeVariable] = mode;
        return NasProcess.Run(Timeout, env, ["check", .. args]);
    }

    [Fact]
    public void Check_passes_and_says_which_path_each_kernel_takes()
    {
        var r = Check(null, null, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var cpu = doc.RootElement[0];
        Assert.Equal("cpu", cpu.GetProperty("device").GetString());
        Assert.True(cpu.GetProperty("healthy").GetBoolean());
        var families = cpu.GetProperty("families").EnumerateArray().ToList();
        foreach (var family in new[] { "conv pointwise", "conv dense", "conv depthwise", "batch_norm", "max_pool", "avg_pool", "relu", "factorized_reduce", "global_avg_pool", "linear" })
            Assert.Contains(families, f => f.GetProperty("family").GetString() == family && f.GetProperty("in_use").GetBoolean() && f.GetProperty("right").GetBoolean());
    }

    [Fact]
    public void A_path_that_computes_wrong_is_replaced_by_one_that_computes_right()
    {
        var r = Check("cpu:dense/nchw", null, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var families = doc.RootElement[0].GetProperty("families").EnumerateArray().ToList();
        var nchw = families.Single(f => f.GetProperty("family").GetString() == "conv dense" && f.GetProperty("path").GetString() == "nchw");
        Assert.False(nchw.GetProperty("right").GetBoolean());
        Assert.False(nchw.GetProperty("in_use").GetBoolean());
        // The fault makes outputs 25% too large: measured as such (more where the CPU adds a fault of its own).
        Assert.True(nchw.GetProperty("largest_error").GetDouble() >= 0.249, nchw.ToString());
        Assert.Contains(families, f => f.GetProperty("family").GetString() == "conv dense" && f.GetProperty("path").GetString() != "nchw"
                                       && f.GetProperty("in_use").GetBoolean() && f.GetProperty("right").GetBoolean());
    }

    [Theory]
    [InlineData("input-grad", "train", "input gradient 2.5e-1")] // the Zen 5 kind: output and weight gradient right
    [InlineData("late", "train", "output")]                      // only the second half of the batch wrong
    [InlineData("eval", "eval", "output 2.5e-1")]                // only the reward's forward pass wrong
    public void Faults_the_training_forward_pass_does_not_show_are_caught_and_routed_around(string effect, string mode, string wrong)
    {
        var r = Check($"cpu:dense/nchw+{effect}", null, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var cpu = doc.RootElement[0];
        var cases = cpu.GetProperty("cases").EnumerateArray().ToList();
        var caught = cases.First(c => c.GetProperty("family").GetString() == "conv dense" && c.GetProperty("path").GetString() == "nchw"
                                      && !c.GetProperty("right").GetBoolean());
        Assert.Equal(mode, caught.GetProperty("mode").GetString());
        Assert.Contains(wrong, cpu.GetProperty("families").EnumerateArray()
            .Single(f => f.GetProperty("family").GetString() == "conv dense" && f.GetProperty("path").GetString() == "nchw").GetProperty("worst_case").GetString());
        Assert.DoesNotContain("dense nchw", cpu.GetProperty("kernels").GetString());
        Assert.True(cpu.GetProperty("healthy").GetBoolean());
    }

    [Fact]
    public void Every_case_says_its_mode_batch_and_images_compared()
    {
        var r = Check(null, null, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var cases = doc.RootElement[0].GetProperty("cases").EnumerateArray()
            .Select(c => (Family: c.GetProperty("family").GetString()!, Mode: c.GetProperty("mode").GetString()!, Batch: c.GetProperty("batch").GetInt32(),
                Images: c.GetProperty("images_compared").GetInt32(), InputGradient: c.GetProperty("input_gradient_error").ValueKind)).ToList();
        // Training cases compare their whole batch of 4; eval cases run the evaluation batch and compare
        // its first, last and two other images, forward only.
        Assert.All(cases.Where(c => c.Mode == "train"), c => Assert.Equal((4, 4), (c.Batch, c.Images)));
        Assert.All(cases.Where(c => c.Mode == "eval"), c => Assert.Equal((256, 4, JsonValueKind.Null), (c.Batch, c.Images, c.InputGradient)));
        foreach (var family in new[] { "conv pointwise", "conv dense", "conv depthwise", "batch_norm", "max_pool", "linear" })
            Assert.Contains(cases, c => c.Family == family && c.Mode == "eval");
    }

    [Fact]
    public void A_kernel_wrong_on_every_path_fails_the_check_naming_kernel_and_shape()
    {
        var r = Check("cpu:depthwise", null);
        Assert.Equal(1, r.ExitCode);
        var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Matches(@"^nas: error: cpu: depthwise convolutions compute wrong on every path allowed \(NAS_CPU_KERNELS=auto; 3x3 stride 1x1 4->4 on 4x4x8x8: output 2\.5e-1", line);
    }

    [Fact]
    public void Forced_onednn_has_no_fallback()
    {
        var r = Check("cpu:dense/nchw", "onednn");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("dense convolutions compute wrong on every path allowed (NAS_CPU_KERNELS=onednn", r.Stderr);
    }

    [Fact]
    public void Native_mode_computes_right_without_onednn()
    {
        var r = Check(null, "native", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("\"mode\":\"native\"", r.Stdout);
    }

    [Fact]
    public void A_bad_mode_a_bad_fault_or_a_missing_device_is_one_line()
    {
        var mode = Check(null, "fast");
        Assert.Equal(2, mode.ExitCode);
        Assert.Equal("nas: error: NAS_CPU_KERNELS must be auto, onednn or native, not \"fast\"", mode.Stderr.Trim());
        // A name that is no device is invalid input (2); a device that is not here would be 1.
        var device = Check(null, null, "--devices", "tpu");
        Assert.Equal(2, device.ExitCode);
        Assert.StartsWith("nas: error: --devices: unknown device \"tpu\"", device.Stderr);
        Assert.Single(device.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var fault = Check("cpu:conv", null);
        Assert.Equal(2, fault.ExitCode);
        Assert.Contains("NAS_INJECT_KERNEL_FAULT: unknown kind \"conv\"", fault.Stderr);
    }

    [Fact]
    public void A_forced_path_that_computes_wrong_is_refused_not_timed()
    {
        var env = new Dictionary<string, string> { [KernelFaults.Variable] = "cpu:dense/unfold" };
        var r = NasProcess.Run(Timeout, env, "bench", "train", "--configs", "1x4", "--steps", "1", "--batch", "8", "--kernels", "unfold", "--json");
        Assert.Equal(1, r.ExitCode);
        Assert.Matches(@"^nas: error: device computes wrong: --kernels unfold: cpu: conv dense computes wrong on that path at 3x3 .*; time another path$", r.Stderr.Trim());
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public void A_search_or_a_trainer_node_refuses_a_device_that_computes_wrong_before_it_takes_work()
    {
        using var dir = new TempDir();
        var env = new Dictionary<string, string> { [KernelFaults.Variable] = "cpu:pointwise" };
        var search = NasProcess.Run(Timeout, env, "search", "--run", Path.Combine(dir.Path, "run"), "--children", "2");
        // A trainer node checks its devices before it joins: the seed it names need not exist.
        var node = NasProcess.Run(Timeout, env, "node", "--join", "127.0.0.1:1", "--roles", "trainer", "--port", "0");
        foreach (var r in new[] { search, node })
        {
            Assert.Equal(1, r.ExitCode);
            Assert.StartsWith("nas: error: device computes wrong: cpu: pointwise convolutions compute wrong on every path", r.Stderr.Trim().Split('\n')[^1]);
        }
    }

    [Fact]
    public void Training_on_a_device_that_computes_wrong_stops_before_it_trains()
    {
        var env = new Dictionary<string, string> { [KernelFaults.Variable] = "cpu:pointwise" };
        var r = NasProcess.Run(Timeout, env, "train", "-N", "1", "-F", "4", "--train-limit", "100", "--validation", "50", "--epochs", "1", "--json");
        Assert.Equal(1, r.ExitCode);
        // (A CPU with a fault of its own says first which path its other convolutions take.)
        Assert.StartsWith("nas: error: device computes wrong: cpu: pointwise convolutions compute wrong on every path", r.Stderr.Trim().Split('\n')[^1]);
        Assert.Equal("", r.Stdout);
    }
}
