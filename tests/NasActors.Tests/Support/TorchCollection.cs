using static TorchSharp.torch;

namespace NasActors.Tests.Support;

/// <summary>
/// Tests that run libtorch in this process go one at a time: libtorch's thread count is process
/// wide (the controller lowers it for its own work), and bit-exact comparisons such as
/// checkpoint resume need the same thread count throughout.
/// </summary>
[CollectionDefinition(Name)]
public sealed class TorchCollection : ICollectionFixture<OneTorchThread>
{
    public const string Name = "torch";
}

/// <summary>
/// One intra-op thread for the collection: it runs beside the other collections and their nas
/// processes, and two OpenMP threads on two busy cores wait for each other at every small kernel
/// (its tests ran 2-6 times slower so). Set before any test thread first uses libtorch, which is
/// when a thread takes the process's count.
/// </summary>
public sealed class OneTorchThread
{
    public OneTorchThread() => set_num_threads(1);
}
