using NasActors.SearchSpace;

namespace NasActors.Reports;

/// <summary>
/// A cell in a few characters for the page (20,000 children are 40,000 cells): per block
/// <c>inputA inputB opA opB combine</c> (op = its index in <see cref="OpNames.All"/>, combine 0 add /
/// 1 concat), then <c>|</c> and the output states, every value one base-36 digit; a cell with more
/// than 36 states writes each value in base 36 followed by a dot. The page draws cells from it.
/// </summary>
public static class CellCode
{
    public static string Encode(Cell cell)
    {
        var values = cell.Blocks.SelectMany(b => new[] { b.InputA, b.InputB, (int)b.OpA, (int)b.OpB, (int)b.Combine });
        var output = cell.Output;
        var wide = cell.HiddenStateCount > 36;
        string Write(IEnumerable<int> v) => string.Concat(v.Select(x => wide ? Base36(x) + "." : Base36(x)));
        return Write(values) + "|" + Write(output);
    }

    private static string Base36(int value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        const string digits = "0123456789abcdefghijklmnopqrstuvwxyz";
        var s = "";
        do
        {
            s = digits[value % 36] + s;
            value /= 36;
        }
        while (value > 0);
        return s;
    }
}
