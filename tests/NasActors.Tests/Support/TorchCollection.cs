namespace NasActors.Tests.Support;

/// <summary>
/// Tests that run libtorch in this process go one at a time: libtorch's thread count is process
/// wide (the controller lowers it for its own work), and bit-exact comparisons such as
/// checkpoint resume need the same thread count throughout.
/// </summary>
[CollectionDefinition(Name)]
public sealed class TorchCollection
{
    public const string Name = "torch";
}
