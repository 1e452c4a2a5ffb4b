using NasActors.Training.Networks;
using NasActors.Training;

namespace NasActors.Training.Kernels;

/// <summary>
/// The known-answer cases a device is checked with: every kind of layer our networks build, at
/// small sizes that still take the kernels big ones take (several images, channel counts on and
/// off the vector width, every kernel, stride and dilation the ops use).
/// </summary>
public static class KernelProbe
{
    private const int Batch = 4, Size = 8;
    // Off the vector width (4, 13, 20, 44: odd too) is where oneDNN has failed; 44 is NASNet-A mobile's F.
    private static readonly int[] Channels = [4, 13, 20, 44];
    private static readonly FeatureShape Small = new(20, Size, Size);

    /// <summary>
    /// Convolutions of one kind (each op's, the stems', the auxiliary head's), in training and as the
    /// reward computes them (eval mode, at the evaluation batch).
    /// </summary>
    public static IEnumerable<KernelCase> Convolutions(ConvKind kind) => WithEval(Training(kind), EvalChannels);

    /// <summary>
    /// Eval mode's convolutions at 256 images cost 64 times a training case's 4: one channel count,
    /// off the vector width (where oneDNN has failed), keeps the probe near a second. A child's own
    /// layers are all checked in eval mode at its evaluation batch before it trains.
    /// </summary>
    private static readonly int[] EvalChannels = [13];

    private static IEnumerable<KernelCase> WithEval(IEnumerable<KernelCase> cases, int[]? channels = null)
    {
        var training = cases.ToList();
        return training.Concat(training.Where(c => channels is null || channels.Contains(c.Input.Channels))
            .Select(c => c.Evaluated(ChildTraining.EvalBatchSize)));
    }

    private static IEnumerable<KernelCase> Training(ConvKind kind) => kind switch
    {
        ConvKind.Dense => Channels.SelectMany(c => new ConvLayer[]
            {
                new(c, c, 3, 3), new(c, c, 3, 3, 2, 2), new(c, c, 3, 3, Dilation: 2), new(c, c, 3, 3, 2, 2, Dilation: 2),
                new(c, c, 1, 3), new(c, c, 3, 1, 2, 1), new(c, c, 1, 7, 1, 2), new(c, c, 7, 1),
            }.Select(l => At(l, c)))
            .Concat([
                // Stems: the image needs no gradient.
                new KernelCase(new ConvLayer(1, 12, 3, 3), new(1, Size, Size), Batch, InputGrad: false),
                new KernelCase(new ConvLayer(3, 24, 3, 3), new(3, Size, Size), Batch, InputGrad: false),
                new KernelCase(new ValidConvLayer(3, 32, 3, 2), new(3, 2 * Size + 1, 2 * Size + 1), Batch, InputGrad: false),
                // The auxiliary head's valid convolution.
                new KernelCase(new ValidConvLayer(20, 24, 2, 1), new(20, 2, 2), Batch),
            ]),
        ConvKind.Depthwise => Channels.SelectMany(c => new[] { 3, 5, 7 }.SelectMany(k => new[] { 1, 2 }
                .Select(s => At(new ConvLayer(c, c, k, k, s, s, Groups: c), c)))
            // DARTS' dilated separable convolutions.
            .Concat(new[] { 3, 5 }.SelectMany(k => new[] { 1, 2 }
                .Select(s => At(new ConvLayer(c, c, k, k, s, s, Dilation: 2, Groups: c), c))))),
        _ => Channels.SelectMany(c => new[]
        {
            At(new ConvLayer(c, 2 * c, 1, 1), c), At(new ConvLayer(c, c, 1, 1, 2, 2), c),
            new KernelCase(new ConvLayer(2 * c, c, 1, 1), new FeatureShape(2 * c, Size, Size), Batch),
        }),
    };

    /// <summary>Every other layer kind: batch norm, pools, ReLU, factorized reduction, the classifier (training and eval).</summary>
    public static IEnumerable<KernelCase> Others() => WithEval(
        Channels.Select(c => At(new BatchNormLayer(c), c))
            .Concat(new[] { 3, 5, 7 }.SelectMany(k => new[] { 1, 2 }.Select(s => new KernelCase(new PoolLayer(true, k, s), Small, Batch))))
            .Concat(new[] { 1, 2 }.Select(s => new KernelCase(new PoolLayer(false, 3, s), Small, Batch)))
            .Concat([
                new KernelCase(new ReluLayer(), Small, Batch),
                new KernelCase(new FactorizedReduceLayer(20, 44), Small, Batch),
                new KernelCase(new ValidAvgPoolLayer(5, 3), Small, Batch),
                new KernelCase(new GlobalAvgPoolLayer(), Small, Batch),
                new KernelCase(new LinearLayer(20 * 2 * 2, 10), new(20, 2, 2), Batch),
            ]));

    private static KernelCase At(Layer layer, int channels) => new(layer, new FeatureShape(channels, Size, Size), Batch);

    /// <summary>
    /// The distinct layers of a planned network at their own input shapes, in training at
    /// <paramref name="batch"/> and as the reward computes them (eval mode) at
    /// <paramref name="evalBatch"/>: what a child computes, to check before it trains. Dropout draws
    /// at random and is left out.
    /// </summary>
    public static IEnumerable<KernelCase> Of(NetworkPlan plan, int batch, int evalBatch)
    {
        var cases = new List<KernelCase>();
        void Add(IEnumerable<Layer> layers, FeatureShape input, bool first = false)
        {
            foreach (var l in layers)
            {
                if (l is FactorizedReduceLayer f)
                {
                    // Its two stride-2 1x1 convolutions, checked like any other.
                    cases.Add(new KernelCase(new ConvLayer(f.In, f.FirstHalf, 1, 1, 2, 2), input, batch));
                    cases.Add(new KernelCase(new ConvLayer(f.In, f.Out - f.FirstHalf, 1, 1, 2, 2), input, batch));
                }
                if (l is not DropoutLayer)
                    cases.Add(new KernelCase(l, input, batch, InputGrad: !first));
                first &= l is ReluLayer;
                input = l.Output(input);
            }
        }
        Add(plan.Stem, plan.Input, first: true);
        foreach (var c in plan.Cells)
        {
            Add(c.HiAdjust, c.HiShape);
            Add(c.PrevAdjust, c.PrevShape);
            foreach (var b in c.Blocks)
            {
                Add(b.A.Layers, b.A.InputShape);
                Add(b.B.Layers, b.B.InputShape);
            }
            foreach (var (state, reduce) in c.Outputs)
                Add(reduce, NetworkPlan.StateShape(c, state));
        }
        if (plan.Aux is { } aux) Add(aux.Layers, aux.Input);
        Add(plan.Head, plan.Cells[^1].Output);
        return cases.Concat(cases.Select(c => c.Evaluated(evalBatch))).Distinct();
    }
}
