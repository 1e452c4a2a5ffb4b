namespace NasActors.Controller.Strategies;

/// <summary>
/// xoshiro256** (Blackman and Vigna) behind <see cref="Random"/>: seeded, fast, and with a state
/// that can be saved and restored, so a restored strategy draws exactly what the original would.
/// </summary>
public sealed class SeededRandom : Random
{
    private ulong s0, s1, s2, s3;

    public SeededRandom(long seed)
    {
        // SplitMix64 spreads the seed over the four words, as the xoshiro authors recommend.
        var x = (ulong)seed;
        s0 = SplitMix(ref x);
        s1 = SplitMix(ref x);
        s2 = SplitMix(ref x);
        s3 = SplitMix(ref x);
    }

    public ulong[] State
    {
        get => [s0, s1, s2, s3];
        set => (s0, s1, s2, s3) = value is { Length: 4 } ? (value[0], value[1], value[2], value[3]) : throw new InvalidDataException("xoshiro256** state has 4 words");
    }

    public ulong NextUInt64()
    {
        var result = BitRotate(s1 * 5, 7) * 9;
        var t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = BitRotate(s3, 45);
        return result;
    }

    protected override double Sample() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    public override double NextDouble() => Sample();

    public override int Next() => (int)(NextUInt64() >> 33);

    public override int Next(int maxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxValue);
        // Lemire's multiply-shift; the bias is below 2^-32 for the small ranges used here.
        return maxValue <= 1 ? 0 : (int)(((NextUInt64() >> 32) * (ulong)maxValue) >> 32);
    }

    public override int Next(int minValue, int maxValue) => minValue + Next(maxValue - minValue);

    private static ulong BitRotate(ulong x, int k) => (x << k) | (x >> (64 - k));

    private static ulong SplitMix(ref ulong x)
    {
        var z = x += 0x9E3779B97F4A7C15;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }
}
