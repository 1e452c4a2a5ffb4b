using NasActors.SearchSpace;
using NasActors.Tensors;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasActors.Controller.Strategies;

/// <summary>
/// The paper's controller: a one-layer LSTM run autoregressively over the 2 x 5B decisions, each
/// decision's embedding fed to the next step, one softmax classifier per decision kind (input,
/// op, combine). Input steps of block k may only pick states 0..k+1; the other logits are masked.
/// Sampling runs step by step over a batch of architectures; evaluation of known decisions (for
/// PPO) runs the whole sequence through the LSTM in one call, since its inputs are known.
/// Both treat the learned start input and the three embedding tables as one table of rows, and
/// evaluation the three classifiers as one over all choices with the other kinds' masked: the same
/// policy in a few large tensor calls instead of many small ones (per-call overhead dominates here).
/// </summary>
public sealed class LstmPolicy : nn.Module
{
    // Large and finite rather than -inf, so that masked entries give 0 * -1e9 = 0 in the entropy.
    private const float Masked = -1e9f;

    private readonly DecisionSpace space;
    private readonly LSTM lstm;
    private readonly Parameter start;
    private readonly ModuleList<Embedding> embeddings;
    private readonly ModuleList<Linear> heads;
    private readonly int hidden;
    // Per decision kind: its first column among all classifiers' choices; its embeddings are the
    // rows of the input table one further down (row 0 is the start input).
    private readonly long[] offset;
    private readonly int columns;

    public LstmPolicy(DecisionSpace space, int hidden, double initRange, long seed) : base(nameof(LstmPolicy))
    {
        this.space = space;
        this.hidden = hidden;
        lstm = nn.LSTM(hidden, hidden);
        // Every temporary tensor below is held by a variable until its native call returns: an
        // unreferenced one can be finalized mid-call (no dispose scope holds it here), which
        // crashed libtorch (reshape of a collected tensor, seen under load).
        using (var initial = zeros(1, 1, hidden)) start = new Parameter(initial);
        var choices = new[] { space.MaxInputChoices, space.OpChoices, space.CombineChoices };
        embeddings = nn.ModuleList(choices.Select(c => nn.Embedding(c, hidden)).ToArray());
        heads = nn.ModuleList(choices.Select(c => nn.Linear(hidden, c)).ToArray());
        RegisterComponents();

        offset = new long[choices.Length];
        for (var g = 1; g < choices.Length; g++) offset[g] = offset[g - 1] + choices[g - 1];
        columns = choices.Sum();

        // The paper: every weight uniform in [-0.1, 0.1]. Drawn from our own seeded source (not
        // libtorch's, which is process-wide) so the same seed always gives the same controller.
        var rng = new SeededRandom(seed);
        using var noGrad = no_grad();
        foreach (var p in parameters())
        {
            var values = new float[p.numel()];
            for (var i = 0; i < values.Length; i++) values[i] = (float)((rng.NextDouble() * 2 - 1) * initRange);
            using var flat = tensor(values);
            using var init = flat.reshape(p.shape);
            p.copy_(init);
        }
    }

    private int GroupOf(int step) => space.Kind(step) switch
    {
        DecisionKind.InputA or DecisionKind.InputB => 0,
        DecisionKind.OpA or DecisionKind.OpB => 1,
        _ => 2,
    };

    /// <summary>The start input and every embedding as rows of one table: [1 + all choices, hidden].</summary>
    private Tensor InputTable() => cat([start[0], .. embeddings.Select(e => (Tensor)e.weight!)], 0);

    /// <summary>Draws <paramref name="count"/> architectures; returns their decisions and log-probabilities.</summary>
    public (int[][] Decisions, double[] LogProbabilities) Sample(int count, Random rng)
    {
        using var threads = TorchThreads.One();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var decisions = Enumerable.Range(0, count).Select(_ => new int[space.Length]).ToArray();
        var logp = new double[count];
        // One LSTM step as plain ops on the LSTM's own weights: a sequence-of-one call to the
        // fused LSTM costs far more per step at this size (measured: bench/RESULTS.md). Every row
        // of the input table goes through the input weights and both biases once per call, so a
        // step only picks its architectures' rows.
        var weights = lstm.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var (wih, whh, bih, bhh) = (weights["weight_ih_l0"], weights["weight_hh_l0"], weights["bias_ih_l0"], weights["bias_hh_l0"]);
        var projected = nn.functional.linear(InputTable(), wih, bih).add_(bhh, Scalars.One);
        var recurrent = whh.t();
        var rows = zeros(count, dtype: int64);
        var h = zeros(count, hidden);
        var c = zeros(count, hidden);
        var chosen = new long[count];
        for (var step = 0; step < space.Length; step++)
        {
            // PyTorch's gate order: input, forget, cell, output.
            var gates = projected.index_select(0, rows).addmm_(h, recurrent);
            var sigmoids = gates.sigmoid().chunk(4, 1);
            var cell = gates.chunk(4, 1)[2].tanh();
            c = sigmoids[1].mul(c).addcmul_(sigmoids[0], cell, Scalars.One);
            h = sigmoids[3].mul(c.tanh());
            var g = GroupOf(step);
            var n = space.ChoiceCount(step);
            var logProbs = nn.functional.log_softmax(heads[g].forward(h)[.., ..n], 1);
            var values = logProbs.contiguous().data<float>().ToArray();
            for (var i = 0; i < count; i++)
            {
                var u = rng.NextDouble();
                var k = 0;
                var cumulative = Math.Exp(values[i * n]);
                while (k < n - 1 && u >= cumulative)
                    cumulative += Math.Exp(values[i * n + ++k]);
                chosen[i] = 1 + offset[g] + k;
                decisions[i][step] = k;
                logp[i] += values[i * n + k];
            }
            rows = tensor(chosen);
        }
        return (decisions, logp);
    }

    /// <summary>Log-probabilities and entropies (with gradients) of given architectures under the current weights.</summary>
    public (Tensor LogProbabilities, Tensor Entropy) Evaluate(IReadOnlyList<int[]> decisions) => Evaluate(Encode(decisions));

    /// <summary>
    /// Architectures as the index tensors <see cref="Evaluate(Batch)"/> needs: made once for the
    /// several PPO passes over one minibatch. The tensors belong to the dispose scope it is called in.
    /// </summary>
    public Batch Encode(IReadOnlyList<int[]> decisions)
    {
        var (count, length) = (decisions.Count, space.Length);
        // Time-major: step t's input row is decision t - 1's embedding (the start row for t = 0).
        var rows = new long[length * count];
        var chosen = new long[length * count];
        var mask = new float[length * columns];
        for (var t = 0; t < length; t++)
        {
            var g = GroupOf(t);
            for (var b = 0; b < count; b++)
            {
                rows[t * count + b] = t == 0 ? 0 : 1 + offset[GroupOf(t - 1)] + decisions[b][t - 1];
                chosen[t * count + b] = offset[g] + decisions[b][t];
            }
            for (var j = 0; j < columns; j++)
                mask[t * columns + j] = j >= offset[g] && j < offset[g] + space.ChoiceCount(t) ? 0f : Masked;
        }
        return new Batch(count, tensor(rows), tensor(chosen, new long[] { length, count, 1 }), tensor(mask, new long[] { length, 1, columns }));
    }

    /// <summary>Encoded architectures: input rows [T * count], chosen columns [T, count, 1], valid columns per step [T, 1, all choices].</summary>
    public sealed record Batch(int Count, Tensor Rows, Tensor Chosen, Tensor Mask);

    /// <summary>Log-probabilities and entropies (with gradients) of encoded architectures under the current weights.</summary>
    public (Tensor LogProbabilities, Tensor Entropy) Evaluate(Batch batch)
    {
        var inputs = InputTable().index_select(0, batch.Rows).view(space.Length, batch.Count, hidden);
        var (outputs, _, _) = lstm.forward(inputs);
        // Every classifier at every step; a step's other kinds' columns are masked, so their
        // probabilities are exactly 0 and the softmax is the step's own classifier's.
        var weight = cat(heads.Select(l => (Tensor)l.weight!).ToArray(), 0);
        var bias = cat(heads.Select(l => (Tensor)l.bias!).ToArray(), 0);
        var logits = nn.functional.linear(outputs, weight, bias).add(batch.Mask, Scalars.One);
        var logProbs = nn.functional.log_softmax(logits, 2);
        var logp = logProbs.gather(2, batch.Chosen).squeeze(2).sum(dim: 0);
        var entropy = logProbs.exp().mul(logProbs).sum(2).sum(dim: 0).neg();
        return (logp, entropy);
    }
}
