using NasActors.SearchSpace;
using NasActors.Tensors;
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
    private readonly Adam optimizer;
    private readonly List<(int[] Decisions, double LogProbability, double Advantage)> batch = new();
    private readonly Queue<(int[] Decisions, double LogProbability)> samples = new();
    private readonly Queue<List<(int[] Decisions, double LogProbability, double Advantage)>> pendingUpdates = new();
    private readonly SizedWriter modelWriter = new();
    private double? baseline;
    private int version;
    // The copy updates run on, kept between updates (building one per update cost more than its
    // passes), and the payload last installed into the policy (null: the policy was loaded otherwise).
    private Trainer? spare;
    private byte[]? installed;

    /// <summary>A policy and optimizer that updates run on, and the payload its state equals (null: unknown).</summary>
    private sealed class Trainer : IDisposable
    {
        public Trainer(DecisionSpace space, PpoSettings ppo, long seed)
        {
            Model = new LstmPolicy(space, ppo.HiddenSize, ppo.InitRange, seed);
            Optimizer = new Adam(Model.parameters(), ppo.LearningRate);
        }

        public LstmPolicy Model { get; }
        public Adam Optimizer { get; }
        public byte[]? Holds { get; set; }

        public void Dispose()
        {
            Optimizer.Dispose();
            Model.Dispose();
        }
    }

    public PpoStrategy(StrategyConfig config, byte[]? state = null) : base(config)
    {
        policy = new LstmPolicy(Space, config.Ppo.HiddenSize, config.Ppo.InitRange, config.Seed);
        optimizer = new Adam(policy.parameters(), config.Ppo.LearningRate);
        if (state is not null) LoadState(state);
    }

    public override string Kind => "ppo";
    public override int PolicyVersion => version;
    public double? Baseline => baseline;

    /// <summary>Observed architectures waiting for the next update.</summary>
    public int BufferedObservations => batch.Count;

    /// <summary>
    /// When set, a full minibatch does not update the policy inside <see cref="StrategyBase.Observe"/>:
    /// it waits (<see cref="HasPendingUpdate"/>) until the caller computes the update, on any thread,
    /// with <see cref="PrepareUpdate"/> and installs it with <see cref="ApplyUpdate"/>. The result is
    /// the same as updating at once; only the moment the new policy takes over is the caller's.
    /// </summary>
    public bool DeferUpdates { get; set; }

    public override bool HasPendingUpdate => pendingUpdates.Count > 0;

    protected override (int[] Decisions, double LogProbability) NextDecisions()
    {
        if (samples.Count == 0)
        {
            var (decisions, logp) = policy.Sample(Config.Ppo.SampleBatch, Rng);
            for (var i = 0; i < decisions.Length; i++) samples.Enqueue((decisions[i], logp[i]));
        }
        return samples.Dequeue();
    }

    protected override void Learn(Proposal proposal, double reward, IReadOnlyList<double>? point)
    {
        var ppo = Config.Ppo;
        var advantage = reward - (baseline ?? reward);
        baseline = baseline is { } b ? ppo.BaselineDecay * b + (1 - ppo.BaselineDecay) * reward : reward;
        batch.Add((proposal.Decisions, proposal.LogProbability, advantage));
        if (batch.Count < ppo.Minibatch) return;
        pendingUpdates.Enqueue([.. batch]);
        batch.Clear();
        if (!DeferUpdates) ApplyUpdate(PrepareUpdate()());
    }

    /// <summary>
    /// The next pending update as a function that owns a copy of the weights and optimizer state:
    /// it touches nothing of this strategy but its writer's size hint and its spare copy, so it may
    /// run on another thread.
    /// </summary>
    public override Func<byte[]> PrepareUpdate()
    {
        if (pendingUpdates.Count == 0) throw new InvalidOperationException("no policy update is pending");
        var minibatch = pendingUpdates.Peek().ToList();
        // The copy the last update ran on already holds the installed weights when that update's
        // result is what was installed: then they need not be written out and read back in.
        var copy = Interlocked.Exchange(ref spare, null);
        var weights = copy?.Holds is { } held && ReferenceEquals(held, installed) ? null : SaveModel(policy, optimizer);
        var (space, ppo, seed) = (Space, Config.Ppo, Config.Seed);
        var ran = 0;
        return () =>
        {
            // Without the weights, only the copy taken above can run it, and only once.
            if (Interlocked.Exchange(ref ran, 1) != 0) throw new InvalidOperationException("a prepared policy update runs once");
            // Computed on a thread of its own: a process that exits meanwhile waits for it to leave libtorch.
            using var native = NativeWork.Enter();
            var trainer = copy ?? new Trainer(space, ppo, seed);
            byte[] updated;
            try
            {
                trainer.Holds = null;
                if (weights is not null) LoadModel(trainer.Model, trainer.Optimizer, weights);
                Update(trainer.Model, trainer.Optimizer, minibatch, ppo);
                updated = SaveModel(trainer.Model, trainer.Optimizer);
                trainer.Holds = updated;
            }
            catch
            {
                // Half updated: of no use to the next update.
                trainer.Dispose();
                throw;
            }
            // Kept for the next update; should another have left its copy meanwhile, one is enough.
            Interlocked.Exchange(ref spare, trainer)?.Dispose();
            return updated;
        };
    }

    /// <summary>Installs the result of the oldest pending update: the next policy version.</summary>
    public override void ApplyUpdate(byte[] updated)
    {
        if (pendingUpdates.Count == 0) throw new InvalidOperationException("no policy update is pending");
        LoadModel(policy, optimizer, updated);
        installed = updated;
        pendingUpdates.Dequeue();
        // Samples drawn from the old weights are dropped so that new proposals use the new policy.
        samples.Clear();
        version++;
    }

    private byte[] SaveModel(LstmPolicy model, Adam adam) => modelWriter.Write(writer =>
    {
        model.save(writer);
        adam.Save(writer);
    });

    private static void LoadModel(LstmPolicy model, Adam adam, byte[] bytes)
    {
        using var reader = new BinaryReader(new MemoryStream(bytes));
        model.load(reader);
        adam.Load(reader);
    }

    private static void Update(LstmPolicy model, Adam adam, List<(int[] Decisions, double LogProbability, double Advantage)> minibatch, PpoSettings ppo)
    {
        using var threads = TorchThreads.One();
        // What every pass shares is made once.
        using var scope = NewDisposeScope();
        var batch = model.Encode(minibatch.Select(b => b.Decisions).ToList());
        var old = tensor(minibatch.Select(b => (float)b.LogProbability).ToArray());
        var advantage = tensor(Advantages(minibatch, ppo));
        using var low = (1 - ppo.ClipRatio).ToScalar();
        using var high = (1 + ppo.ClipRatio).ToScalar();
        using var entropyWeight = ppo.EntropyWeight.ToScalar();
        for (var epoch = 0; epoch < ppo.Epochs; epoch++)
        {
            using var passScope = NewDisposeScope();
            var (logp, entropy) = model.Evaluate(batch);
            var ratio = (logp - old).exp();
            var surrogate = minimum(ratio * advantage, ratio.clamp(low, high) * advantage);
            // loss = -mean(surrogate) - w * mean(entropy)
            var loss = surrogate.mean().neg().sub(entropy.mean().mul(entropyWeight));
            adam.ZeroGrad();
            loss.backward();
            adam.Step();
        }
    }

    /// <summary>The minibatch's advantages, normalised when the settings say so (a minibatch of equal advantages teaches nothing either way).</summary>
    private static float[] Advantages(List<(int[] Decisions, double LogProbability, double Advantage)> minibatch, PpoSettings ppo)
    {
        var a = minibatch.Select(b => b.Advantage).ToArray();
        if (!ppo.NormalizeAdvantages) return a.Select(v => (float)v).ToArray();
        var mean = a.Average();
        var spread = Math.Sqrt(a.Sum(v => (v - mean) * (v - mean)) / a.Length);
        return a.Select(v => (float)(spread > 1e-12 ? (v - mean) / spread : 0)).ToArray();
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
        writer.Write(pendingUpdates.Count);
        foreach (var minibatch in pendingUpdates)
        {
            writer.Write(minibatch.Count);
            foreach (var (decisions, logp, advantage) in minibatch)
            {
                WriteDecisions(writer, decisions);
                writer.Write(logp);
                writer.Write(advantage);
            }
        }
        policy.save(writer);
        optimizer.Save(writer);
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
        pendingUpdates.Clear();
        for (var n = reader.ReadInt32(); n > 0; n--)
        {
            var minibatch = new List<(int[], double, double)>();
            for (var m = reader.ReadInt32(); m > 0; m--)
                minibatch.Add((ReadDecisions(reader), reader.ReadDouble(), reader.ReadDouble()));
            pendingUpdates.Enqueue(minibatch);
        }
        policy.load(reader);
        optimizer.Load(reader);
        installed = null;
    }

    public override void Dispose()
    {
        Interlocked.Exchange(ref spare, null)?.Dispose();
        optimizer.Dispose();
        policy.Dispose();
        base.Dispose();
    }
}
