using NasActors.Training;
using NasActors.Training.Data;
using NasActors.Protocol;
using NasActors.SearchSpace;

namespace NasActors.Cli.Commands;

/// <summary>Maps the failures a command can meet to a message on stderr and an exit code.</summary>
public static class CommandErrors
{
    public static int Guard(Func<int> action) => GuardAsync(() => Task.FromResult(action())).GetAwaiter().GetResult();

    public static async Task<int> GuardAsync(Func<Task<int>> action)
    {
        try
        {
            return await Report(action);
        }
        finally
        {
            // Training and checks were cancelled with the command's actors: let them leave libtorch before the process exits.
            Tensors.NativeWork.WaitIdle(TimeSpan.FromSeconds(15));
        }
    }

    /// <summary>The option that carries each input that layers below the command line name.</summary>
    private static string OptionOf(UserInput input) => "--" + input.Name;

    /// <summary>What went wrong, as one line and the exit code that says whose fault it was.</summary>
    private static async Task<int> Report(Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (IOException e)
        {
            return ExitCodes.Fail(ExitCodes.Unreadable, e.Message);
        }
        catch (GenotypeFormatException e)
        {
            return ExitCodes.Fail(ExitCodes.Invalid, $"invalid genotype: {e.Message}");
        }
        catch (InvalidGenotypeException e)
        {
            return ExitCodes.Fail(ExitCodes.Invalid, $"invalid genotype: {string.Join("; ", e.Errors)}");
        }
        catch (DatasetFormatException e)
        {
            return ExitCodes.Fail(ExitCodes.Unreadable, $"dataset: {e.Message}");
        }
        catch (DeviceUnavailableException e)
        {
            return ExitCodes.Fail(e.Malformed ? ExitCodes.Invalid : ExitCodes.Unreadable, e.Message);
        }
        catch (Training.Kernels.DeviceFaultException e)
        {
            return ExitCodes.Fail(ExitCodes.Unreadable, $"device computes wrong: {e.Message}");
        }
        catch (TrainingFailedException e)
        {
            return ExitCodes.Fail(e.Kind == FailureKind.InvalidConfiguration ? ExitCodes.Invalid : ExitCodes.TrainingFailed, $"training failed ({e.Kind}): {e.Message}");
        }
        catch (Persistence.InvalidRunException e)
        {
            return ExitCodes.Fail(ExitCodes.Invalid, e.Message);
        }
        catch (Persistence.RunLockedException e)
        {
            return ExitCodes.Fail(ExitCodes.Invalid, e.Message);
        }
        catch (Persistence.RunStoreException e)
        {
            return ExitCodes.Fail(ExitCodes.Unreadable, e.Message);
        }
        catch (UnauthorizedAccessException e)
        {
            return ExitCodes.Fail(ExitCodes.Unreadable, e.Message);
        }
        catch (InputException e)
        {
            return ExitCodes.Fail(ExitCodes.Invalid, e.Input is { } input ? $"{OptionOf(input)}: {e.Problem}" : e.Message);
        }
        catch (OperationCanceledException)
        {
            return ExitCodes.Fail(ExitCodes.Interrupted, "interrupted");
        }
        catch (TypeInitializationException e) when (e.TypeName?.StartsWith("TorchSharp", StringComparison.Ordinal) == true)
        {
            // TorchSharp's own message is a page of probing trace: its first line says what failed.
            var why = (e.InnerException?.Message ?? e.Message).Split('\n')[0].Trim();
            return ExitCodes.Fail(ExitCodes.Unreadable,
                $"libtorch could not be loaded ({why}); with NAS_TORCH_BACKEND=system, NAS_LIBTORCH_DIR or python3's torch must hold a libtorch that TorchSharp 0.107 can use (PyTorch 2.10 or later)");
        }
        catch (Exception e)
        {
            // Anything else is nas's own fault, never the user's input: said as a bug, with where it happened.
            Console.Error.WriteLine(e);
            return ExitCodes.Fail(ExitCodes.Internal, $"internal error (a bug in nas; the trace above says where): {e.GetType().Name}: {e.Message.Split('\n')[0]}");
        }
    }
}
