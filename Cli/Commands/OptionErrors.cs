using System.Text.RegularExpressions;

namespace NasActors.Cli.Commands;

/// <summary>System.CommandLine's parse errors in the words of nas: the option, the value and what it accepts.</summary>
public static partial class OptionErrors
{
    public static string Describe(string? option, string message)
    {
        var line = message.Split('\n')[0].Trim();
        if (CannotParse().Match(line) is { Success: true } m)
            return $"{m.Groups["option"].Value}: '{m.Groups["value"].Value}' is not {Kind(m.Groups["type"].Value)}";
        if (NotRecognized().Match(line) is { Success: true } n)
        {
            var choices = string.Join(", ", message.Split('\n').Skip(1).Select(c => c.Trim().Trim('\'')).Where(c => c.Length > 0));
            return $"{option ?? "option"}: '{n.Groups["value"].Value}' is not one of {choices}";
        }
        return option is null || line.Contains(option, StringComparison.Ordinal) ? $"{line} (see --help)" : $"{option}: {line}";
    }

    /// <summary>The device an option names; a name that is no device at all is that option's invalid value (exit 2).</summary>
    public static TorchSharp.torch.Device Device(string option, string name)
    {
        try
        {
            return Training.TorchRuntime.ParseDevice(name);
        }
        catch (Training.DeviceUnavailableException e) when (e.Malformed)
        {
            throw new Protocol.InputException(option, e.Message);
        }
    }

    private static string Kind(string type) => type switch
    {
        "System.Int32" or "System.Int64" or "System.Nullable`1[System.Int32]" or "System.Nullable`1[System.Int64]" => "a whole number",
        "System.Double" or "System.Nullable`1[System.Double]" => "a number",
        _ => "a valid value",
    };

    [GeneratedRegex(@"Cannot parse argument '(?<value>.*)' for option '(?<option>[^']+)' as expected type '(?<type>[^']+)'")]
    private static partial Regex CannotParse();

    [GeneratedRegex(@"Argument '(?<value>.*)' not recognized")]
    private static partial Regex NotRecognized();
}
