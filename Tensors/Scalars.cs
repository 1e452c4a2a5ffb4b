using TorchSharp;

namespace NasActors.Tensors;

/// <summary>
/// Scalars that live as long as the process. TorchSharp passes only a Scalar's native handle to
/// libtorch; a Scalar made on the fly (an implicit conversion, or inside an overload such as
/// <c>a + b</c>) can be finalized by a garbage collection while libtorch still reads it. These
/// never are, and build/BannedSymbols.txt makes the unsafe forms compile errors.
/// </summary>
public static class Scalars
{
    public static readonly Scalar One = 1.0.ToScalar();
    // Integer tensors refuse a floating-point alpha.
    public static readonly Scalar OneInteger = 1L.ToScalar();
    public static readonly Scalar MinusOne = (-1.0).ToScalar();
    public static readonly Scalar Zero = 0.0.ToScalar();
    // Pixel bytes to [0, 1].
    public static readonly Scalar Byte255 = 255.0.ToScalar();
}
