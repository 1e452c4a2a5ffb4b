using Xunit.Abstractions;

[assembly: TestCollectionOrderer("NasActors.Tests.Support.SerialGroupsFirst", "NasActors.Tests")]

namespace NasActors.Tests.Support;

/// <summary>
/// Starts the collections whose classes run one after another (libtorch's, then PostgreSQL's) before
/// the rest. Started in the default order, libtorch's came last and ran alone for its last six
/// minutes while the second core idled; started first, they run beside the others.
/// </summary>
public sealed class SerialGroupsFirst : ITestCollectionOrderer
{
    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        testCollections.OrderBy(c => c.DisplayName == TorchCollection.Name ? 0 : c.CollectionDefinition is not null ? 1 : 2);
}
