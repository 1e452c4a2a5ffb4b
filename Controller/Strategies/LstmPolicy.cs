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
    private readonly Group[] groups;
    private readonly long[] timeOrder;

    /// <summary>The steps of one decision kind, with the mask of their valid choices.</summary>
    private sealed record Group(int[] Steps, int Choices, float[] Mask);

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

        groups = choices.Select((c, g) =>
        {
            var steps = Enumerable.Range(0, space.Length).Where(t => GroupOf(t) == g).ToArray();
            var mask = steps.SelectMany(t => Enumerable.Range(0, c).Select(i => i < space.ChoiceCount(t) ? 0f : Masked)).ToArray();
            return new Group(steps, c, mask);
        }).ToArray();
        // Position of each time step in the group-by-group order, to put embeddings back in time order.
        var grouped = groups.SelectMany(g => g.Steps).ToList();
        timeOrder = Enumerable.Range(0, space.Length).Select(t => (long)grouped.IndexOf(t)).ToArray();

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

    /// <summary>Draws <paramref name="count"/> architectures; returns their decisions and log-probabilities.</summary>
    public (int[][] Decisions, double[] LogProbabilities) Sample(int count, Random rng)
    {
        using var threads = TorchThreads.Limit(1);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var decisions = Enumerable.Range(0, count).Select(_ => new int[space.Length]).ToArray();
        var logp = new double[count];
        // One LSTM step as plain ops on the LSTM's own weights: a sequence-of-one call to the
        // fused LSTM costs far more per step at this size (measured: bench/RESULTS.md).
        var weights = lstm.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var (wih, whh, bih, bhh) = (weights["weight_ih_l0"], weights["weight_hh_l0"], weights["bias_ih_l0"], weights["bias_hh_l0"]);
        var x = start[0].expand(count, hidden);
        var h = zeros(count, hidden);
        var c = zeros(count, hidden);
        for (var step = 0; step < space.Length; step++)
        {
            // PyTorch's gate order: input, forget, cell, output.
            var gates = nn.functional.linear(x, wih, bih).add(nn.functional.linear(h, whh, bhh), Scalars.One);
            var chunks = gates.chunk(4, 1);
            c = (chunks[1].sigmoid() * c).add(chunks[0].sigmoid() * chunks[2].tanh(), Scalars.One);
            h = chunks[3].sigmoid() * c.tanh();
            var g = GroupOf(step);
            var n = space.ChoiceCount(step);
            var logProbs = nn.functional.log_softmax(heads[g].forward(h)[.., ..n], 1);
            var values = logProbs.contiguous().data<float>().ToArray();
            var chosen = new long[count];
            for (var i = 0; i < count; i++)
            {
                var u = rng.NextDouble();
                var k = 0;
                var cumulative = Math.Exp(values[i * n]);
                while (k < n - 1 && u >= cumulative)
                    cumulative += Math.Exp(values[i * n + ++k]);
                chosen[i] = k;
                decisions[i][step] = k;
                logp[i] += values[i * n + k];
            }
            x = embeddings[g].forward(tensor(chosen));
        }
        return (decisions, logp);
    }

    /// <summary>Log-probabilities and entropies (with gradients) of given architectures under the current weights.</summary>
    public (Tensor LogProbabilities, Tensor Entropy) Evaluate(IReadOnlyList<int[]> decisions)
    {
        var count = decisions.Count;
        var all = tensor(decisions.SelectMany(d => d.Select(v => (long)v)).ToArray(), new long[] { count, space.Length });
        // Embeddings of every decision, group by group, then back in time order: [count, T, hidden].
        var embedded = cat(groups.Select((g, i) => embeddings[i].forward(all.index_select(1, tensor(g.Steps.Select(s => (long)s).ToArray())))).ToArray(), 1)
            .index_select(1, tensor(timeOrder));
        // Step t's input is the embedding of decision t - 1; the first step's is the learned start.
        var inputs = cat([start.expand(1, count, hidden), embedded.transpose(0, 1)[..^1]], 0);
        var (outputs, _, _) = lstm.forward(inputs);

        var logp = zeros(count);
        var entropy = zeros(count);
        for (var i = 0; i < groups.Length; i++)
        {
            var g = groups[i];
            var steps = tensor(g.Steps.Select(s => (long)s).ToArray());
            var logits = heads[i].forward(outputs.index_select(0, steps)).add(tensor(g.Mask, new long[] { g.Steps.Length, 1, g.Choices }), Scalars.One);
            var logProbs = nn.functional.log_softmax(logits, 2);
            var chosen = all.index_select(1, steps).t().unsqueeze(2);
            logp = logp.add(logProbs.gather(2, chosen).squeeze(2).sum(dim: 0), Scalars.One);
            entropy = entropy - (logProbs.exp() * logProbs).sum(2).sum(dim: 0);
        }
        return (logp, entropy);
    }
}
