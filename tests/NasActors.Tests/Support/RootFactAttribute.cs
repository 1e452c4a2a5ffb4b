namespace NasActors.Tests.Support;

/// <summary>A test that makes network namespaces or mounts, which needs root (as ./run-tests run by root does, and CI); skipped, saying so, elsewhere.</summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (Environment.UserName != "root") Skip = "needs root to make network namespaces or mounts (run ./run-tests as root, as CI does)";
    }
}
