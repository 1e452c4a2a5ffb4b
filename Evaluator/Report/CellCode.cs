using NasActors.SearchSpace;

namespace NasActors.Evaluator.Report;

/// <summary>
/// A cell in a few characters for the page: blocks separated by spaces, each
/// <c>inputA.inputB.opA.opB.combine</c> in base 36 (op = its index in <see cref="OpNames.All"/>,
/// combine 0 add / 1 concat), then <c>|</c> and the output states. The page draws cells from it.
/// </summary>
public static class CellCode
{
    public static string Encode(Cell cell) =>
        string.Join(" ", cell.Blocks.Select(b => string.Join(".", Base36(b.InputA), Base36(b.InputB), Base36((int)b.OpA), Base36((int)b.OpB), Base36((int)b.Combine))))
        + "|" + string.Join(".", cell.Output.Select(Base36));

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
