namespace NasActors.SearchSpace;

/// <summary>
/// The paper's search settings (Zoph et al. 2017, section 4), the one place each number lives:
/// the controller's defaults and a run's settings both start from here.
/// </summary>
public static class PaperSettings
{
    public const int ControllerHiddenSize = 100;
    public const double ControllerInitRange = 0.1;
    public const double PpoLearningRate = 0.00035;
    public const double PpoEntropyWeight = 0.00001;
    public const double BaselineDecay = 0.95;
    public const int PpoMinibatch = 20;

    /// <summary>One optimisation pass per minibatch (the paper gives no other).</summary>
    public const int PpoEpochs = 1;
}
