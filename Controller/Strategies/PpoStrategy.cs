using TorchSharp;
using static TorchSharp.torch;

namespace NasActors.Controller.Strategies;

/// <summary>
/// The paper's learner: the LSTM policy trained with PPO (Adam, clipped probability ratio against
/// the log-probability stored at proposal time, entropy bonus), advantage = reward minus an
/// exponential moving average of rewards. Every <see cref="PpoSettings.Minibatch"/> observed
/// architectures make one update and a new policy version. Proposals made by older versions are
/// normal in an asynchronous search: the stored log-probability makes their ratio correct.
/// </summary>
public sealed class PpoStrategy : StrategyBase
{
    private readonly LstmPolicy policy;
    private readonly optim.Optimizer optimizer;
    private readonly List<(int[] Decisions, double LogProbability, double Advantage)> batch = new();
    private readonly Queue<(int[] Decisions, double LogProbability)> samples = new();
    private double? baseline;
    private int version;

    public PpoStrategy(StrategyConfig config, byte[]? state = null) : base(config)
    {
        policy = new LstmPolicy(Space, config.Ppo.HiddenSize, config.Ppo.InitRange, config.Seed);
        optimizer = optim.Adam(policy.parameters(), config.Ppo.LearningRate);
        if (state is not null) LoadState(state);
    }

    public override string Kind => "ppo";
    public override int PolicyVersion => version;
    public double? Baseline => baseline;

    /// <summary>Observed architectures waiting for the next update.</summary>
    public int BufferedObservations => batch.Count;

    protected override (int[] Decisions, double LogProbability) NextDecisions()
    {
        if (samples.Count == 0)
        {
            var (decisions, logp) = policy.Sample(Config.Ppo.SampleBatch, Rng);
            for (var i = 0; i < decisions.Length; i++) samples.Enqueue((decisions[i], logp[i]));
        }
        return samples.Dequeue();
    }

    protected override void Learn(Proposal proposal, double reward)
    {
        var ppo = Config.Ppo;
        var advantage = reward - (baseline ?? reward);
        baseline = baseline is { } b ? ppo.BaselineDecay * b + (1 - ppo.BaselineDecay) * reward : reward;
        batch.Add((proposal.Decisions, proposal.LogProbability, advantage));
        if (batch.Count < ppo.Minibatch) return;
        Update();
        batch.Clear();
        // Samples drawn from the old weights are dropped so that new proposals use the new policy.
        samples.Clear();
        version++;
    }

    private void Update()
    {
        var ppo = Config.Ppo;
        using var threads = TorchThreads.Limit(1);
        var decisions = batch.Select(b => b.Decisions).ToList();
        for (var epoch = 0; epoch < ppo.Epochs; epoch++)
        {
            using var scope = NewDisposeScope();
            var (logp, entropy) = policy.Evaluate(decisions);
            var old = tensor(batch.Select(b => (float)b.LogProbability).ToArray());
            var advantage = tensor(batch.Select(b => (float)b.Advantage).ToArray());
            var ratio = (logp - old).exp();
            var surrogate = minimum(ratio * advantage, ratio.clamp(1 - ppo.ClipRatio, 1 + ppo.ClipRatio) * advantage);
            var loss = -surrogate.mean() - ppo.EntropyWeight * entropy.mean();
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
        }
    }

    protected override void WriteState(BinaryWriter writer)
    {
        writer.Write(version);
        writer.Write(baseline.HasValue);
        writer.Write(baseline ?? 0);
        writer.Write(batch.Count);
        foreach (var (decisions, logp, advantage) in batch)
        {
            WriteDecisions(writer, decisions);
            writer.Write(logp);
            writer.Write(advantage);
        }
        writer.Write(samples.Count);
        foreach (var (decisions, logp) in samples)
        {
            WriteDecisions(writer, decisions);
            writer.Write(logp);
        }
        policy.save(writer);
        ((TorchSharp.Modules.OptimizerHelper)optimizer).save_state_dict(writer);
    }

    protected override void ReadState(BinaryReader reader)
    {
        version = reader.ReadInt32();
        var hasBaseline = reader.ReadBoolean();
        var b = reader.ReadDouble();
        baseline = hasBaseline ? b : null;
        batch.Clear();
        for (var n = reader.ReadInt32(); n > 0; n--)
            batch.Add((ReadDecisions(reader), reader.ReadDouble(), reader.ReadDouble()));
        samples.Clear();
        for (var n = reader.ReadInt32(); n > 0; n--)
            samples.Enqueue((ReadDecisions(reader), reader.ReadDouble()));
        policy.load(reader);
        ((TorchSharp.Modules.OptimizerHelper)optimizer).load_state_dict(reader);
    }

    public override void Dispose()
    {
        optimizer.Dispose();
        policy.Dispose();
        base.Dispose();
    }
}
