using NasActors.Training.Data;
using NasActors.Training.Networks;
using NasActors.Training;
using NasActors.Controller.Strategies;
using NasActors.SearchSpace;
using NasActors.Tensors;
using NasActors.Tests.Training;
using NasActors.Tests.Controller;
using NasActors.Tests.Support;
using static TorchSharp.torch;

namespace NasActors.Tests.Tensors;

/// <summary>
/// TorchSharp frees a Scalar in its finalizer; one made on the fly can be collected while libtorch
/// reads it (a crash, or silently another value). With every Scalar of ours kept alive, the
/// controller's and a child's tensor work give bit-identical results while another thread forces
/// garbage collections non-stop.
/// </summary>
[Collection(TorchCollection.Name)]
public class GarbageCollectionStressTests
{
    [Fact]
    public void PPO_sampling_and_updates_are_bit_identical_under_constant_garbage_collection()
    {
        static (List<string> Trace, byte[] State) Run()
        {
            // One architecture per sampling pass: thousands of small native calls, each a chance for a collection.
            using var s = new PpoStrategy(new StrategyConfig { Kind = "ppo", Seed = 3, Ppo = new PpoSettings { LearningRate = 0.02, Minibatch = 10, SampleBatch = 1 } });
            var trace = new List<string>();
            for (long id = 0; id < 200; id++)
            {
                var p = s.Propose(id);
                trace.Add($"{string.Join(",", p.Decisions)}|{p.LogProbability:R}|{p.PolicyVersion}");
                s.Observe(id, SyntheticObjectives.PreferredOps(p.Genotype));
            }
            Assert.Equal(20, s.PolicyVersion);
            return (trace, s.SaveState());
        }

        var quiet = Run();
        var (stressed, collections) = WithCollector(Run);
        Assert.Equal(quiet.Trace, stressed.Trace);
        Assert.Equal(quiet.State, stressed.State);
        Assert.True(collections > 20, $"only {collections} collections ran beside the work");
    }

    [Fact]
    public void Controllers_made_under_constant_garbage_collection_have_the_same_weights()
    {
        // Made anew for every PPO update: its temporaries (outside any dispose scope) once crashed
        // libtorch when one was collected during a reshape.
        static List<byte[]> Run() => Enumerable.Range(0, 60).Select(i =>
        {
            using var policy = new LstmPolicy(new DecisionSpace(), 100, 0.1, seed: i % 3);
            using var stream = new MemoryStream();
            using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true)) policy.save(writer);
            return stream.ToArray();
        }).ToList();

        var quiet = Run();
        var (stressed, collections) = WithCollector(Run);
        Assert.Equal(quiet, stressed);
        Assert.True(collections > 20, $"only {collections} collections ran beside the work");
    }

    [Fact]
    public void Child_training_steps_are_bit_identical_under_constant_garbage_collection()
    {
        var data = DataSplits.Create(DataTests.LoadMini(), 100, 200, seed: 2);
        var plan = NetworkPlan.Create(new NetworkConfig(NasNetA.Genotype, 1, 4, 10, 1, 28, StemKind.Cifar, DropPathKeep: 0.8, AuxHead: true));
        var config = new TrainingConfig { Epochs = 1, BatchSize = 50, LearningRate = 0.1, Seed = 5 };
        TrainingResult Run() => ChildTraining.Train(plan, data, config, CPU);

        var quiet = Run();
        var (stressed, collections) = WithCollector(Run);
        Assert.Equal(quiet.History.Select(h => h.TrainLoss), stressed.History.Select(h => h.TrainLoss));
        Assert.Equal(quiet.ValidationAccuracy, stressed.ValidationAccuracy);
        Assert.True(collections > 20, $"only {collections} collections ran beside the work");
    }

    [Fact]
    public void The_optimizers_match_their_PyTorch_definitions()
    {
        using var p = new TorchSharp.Modules.Parameter(tensor(new float[] { 1f, -2f }));
        using var sgd = new Sgd([p], learningRate: 0.1, momentum: 0.9, weightDecay: 0.5);
        // Step 1: d = g + 0.5 p = (1.5, -0.0); buf = d; p -= 0.1 buf.
        p.grad = tensor(new float[] { 1f, 1f });
        sgd.Step();
        Assert.Equal([0.85f, -2f], p.data<float>().ToArray());
        // Step 2: d = g + 0.5 p = (1.425, 0); buf = 0.9 buf + d = (2.775, 0); p -= 0.1 buf.
        sgd.Step();
        Assert.Equal(0.5725f, p.data<float>()[0], 5);

        using var q = new TorchSharp.Modules.Parameter(tensor(new float[] { 1f }));
        using var adam = new Adam([q], learningRate: 0.01);
        q.grad = tensor(new float[] { 2f });
        adam.Step();
        // The first Adam step moves each weight by lr against its gradient's sign.
        Assert.Equal(0.99f, q.data<float>()[0], 5);
    }

    /// <summary>Runs <paramref name="work"/> while another thread collects garbage and runs finalizers without pause.</summary>
    private static (T Result, int Collections) WithCollector<T>(Func<T> work)
    {
        using var stop = new CancellationTokenSource();
        var collections = 0;
        var collector = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                Interlocked.Increment(ref collections);
            }
        }) { IsBackground = true };
        collector.Start();
        try
        {
            return (work(), collections);
        }
        finally
        {
            stop.Cancel();
            collector.Join();
        }
    }
}

/// <summary>
/// The compile-time guard (build/BannedSymbols.txt, checked by the banned-API analyzer) only works
/// while each line names a real TorchSharp member: a TorchSharp upgrade that renames one would
/// silently let it through again.
/// </summary>
public class BannedSymbolsTests
{
    private static readonly string[] Lines = File.ReadAllLines(Path.Combine(NasProcess.RepositoryRoot, "build", "BannedSymbols.txt"))
        .Where(l => l.Length > 0 && !l.StartsWith('#')).ToArray();

    private static string TypeId(Type t) =>
        t.IsByRef ? TypeId(t.GetElementType()!) + "@"
        : t.IsArray ? TypeId(t.GetElementType()!) + "[]"
        : t.IsGenericType ? $"{t.GetGenericTypeDefinition().FullName![..t.GetGenericTypeDefinition().FullName!.IndexOf('`')].Replace('+', '.')}{{{string.Join(",", t.GetGenericArguments().Select(TypeId))}}}"
        : (t.FullName ?? t.Name).Replace('+', '.');

    private static string MethodId(System.Reflection.MethodInfo m)
    {
        var ps = m.GetParameters();
        var id = $"M:{TypeId(m.DeclaringType!)}.{m.Name}{(ps.Length > 0 ? $"({string.Join(",", ps.Select(p => TypeId(p.ParameterType)))})" : "")}";
        return m.Name == "op_Implicit" ? $"{id}~{TypeId(m.ReturnType)}" : id;
    }

    private static HashSet<string> TorchSharpMethods() =>
        typeof(TorchSharp.torch).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.DeclaredOnly))
            .Select(MethodId).ToHashSet();

    [Fact]
    public void Every_banned_symbol_names_a_TorchSharp_member()
    {
        var known = TorchSharpMethods();
        var missing = Lines.Select(l => l.Split(';')[0]).Where(id => !known.Contains(id)).ToList();
        Assert.Empty(missing);
    }

    [Fact]
    public void Every_implicit_conversion_to_Scalar_and_the_adding_operators_are_banned()
    {
        var banned = Lines.Select(l => l.Split(';')[0]).ToHashSet();
        var conversions = typeof(TorchSharp.Scalar).GetMethods().Where(m => m.Name == "op_Implicit").Select(MethodId).ToList();
        var additions = typeof(TorchSharp.torch.Tensor).GetMethods().Where(m => m.Name == "op_Addition").Select(MethodId).ToList();
        Assert.True(conversions.Count >= 10);
        Assert.All(conversions.Concat(additions), id => Assert.Contains(id, banned));
    }
}
