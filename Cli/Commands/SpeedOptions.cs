using System.CommandLine;
using NasActors.Training;
using NasActors.Protocol.Messages;
using NasActors.Tensors;

namespace NasActors.Cli.Commands;

/// <summary>How fast a network trains on its device: precision, memory order, cuDNN autotuning (train, bench train, search).</summary>
public sealed class SpeedOptions
{
    public Option<string?> Precision { get; } = PrecisionOption();

    public Option<bool> ChannelsLast { get; } = new("--channels-last") { Description = "batches in channels-last (NHWC) memory order" };

    public Option<bool> CudnnBenchmark { get; } = new("--cudnn-benchmark") { Description = "let cuDNN time its algorithms per shape and keep the fastest (CUDA)" };

    private static Option<string?> PrecisionOption()
    {
        var option = new Option<string?>("--precision")
        {
            Description = "fp32 (default), bf16 or fp16 (CUDA only): weights and activations, with fp32 master weights",
        };
        option.AcceptOnlyFromAmong([.. TrainingSpec.Precisions]);
        return option;
    }

    public void AddTo(Command command)
    {
        command.Options.Add(Precision);
        command.Options.Add(ChannelsLast);
        command.Options.Add(CudnnBenchmark);
    }

    public TrainingConfig Apply(ParseResult parse, TrainingConfig config) => config with
    {
        Precision = Precisions.Parse(parse.GetValue(Precision)),
        ChannelsLast = parse.GetValue(ChannelsLast),
        CudnnBenchmark = parse.GetValue(CudnnBenchmark),
    };
}
