using System.Globalization;

namespace NasActors.Protocol.Messages;

/// <summary>
/// What a child network costs, measured by its worker before it trains: parameters and mult-adds
/// from its plan at the job's network settings, and (when asked) its inference latency on the
/// worker's own device, with that device's name.
/// </summary>
public sealed record ChildCosts(long Parameters, long MultAdds,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] double? LatencyMs = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? LatencyDevice = null)
{
    /// <summary>The cost objectives by name, in the order they are listed (accuracy, the reward, is the one maximised).</summary>
    public const string ParamsName = "params", MultAddsName = "mult_adds", LatencyName = "latency_ms";

    public static readonly IReadOnlyList<string> Names = [ParamsName, MultAddsName, LatencyName];

    /// <summary>The value of cost <paramref name="name"/> (null: latency not measured).</summary>
    public double? Value(string name) => name switch
    {
        ParamsName => Parameters,
        MultAddsName => MultAdds,
        LatencyName => LatencyMs,
        _ => throw new ArgumentException($"not a cost: {name}", nameof(name)),
    };

    /// <summary>The bounds these costs exceed, each as "name value > bound", in the bounds' order (empty: within them all).</summary>
    public IReadOnlyList<string> Exceeded(IReadOnlyDictionary<string, double>? bounds) =>
        bounds is null ? [] : bounds
            .Where(b => Value(b.Key) is { } v && v > b.Value)
            .Select(b => $"{b.Key} {Format(Value(b.Key)!.Value)} > {Format(b.Value)}")
            .ToList();

    public static string Format(double value) => value.ToString(Math.Abs(value) >= 1e5 ? "0.###e0" : "0.###", CultureInfo.InvariantCulture);
}

/// <summary>
/// What a search job asks its worker to measure before training, and the bounds over which the
/// child is refused untrained: <see cref="LatencyBatch"/> (null: no latency), <see cref="Bounds"/>
/// by cost name (upper bounds; null: none).
/// </summary>
public sealed record CostRequest(int? LatencyBatch, IReadOnlyDictionary<string, double>? Bounds);
