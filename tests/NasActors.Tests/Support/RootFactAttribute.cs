namespace NasActors.Tests.Support;

/// <summary>A test that makes network namespaces, which needs root (as .ci/run runs); skipped, saying so, elsewhere.</summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (Environment.UserName != "root") Skip = "needs root to make network namespaces (.ci/run runs as root)";
    }
}
