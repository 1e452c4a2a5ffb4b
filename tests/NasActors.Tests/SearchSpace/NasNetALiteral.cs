
namespace NasActors.Tests.SearchSpace;

/// <summary>The published NASNet-A cells as literal text, so that tests never compute their expectation with the code under test.</summary>
public static class NasNetALiteral
{
    /// <summary>NASNet-A as the paper's Figure 4 draws it, in the text form (literal: not computed by the code under test).</summary>
    public const string Text = """
        normal:
          b0 = sep_conv_5x5(h[i]) + sep_conv_3x3(h[i-1])
          b1 = sep_conv_5x5(h[i-1]) + sep_conv_3x3(h[i-1])
          b2 = avg_pool_3x3(h[i]) + identity(h[i-1])
          b3 = avg_pool_3x3(h[i-1]) + avg_pool_3x3(h[i-1])
          b4 = sep_conv_3x3(h[i]) + identity(h[i])
          out = concat(h[i-1], b0, b1, b2, b3, b4)
        reduction:
          b0 = sep_conv_5x5(h[i]) + sep_conv_7x7(h[i-1])
          b1 = max_pool_3x3(h[i]) + sep_conv_7x7(h[i-1])
          b2 = avg_pool_3x3(h[i]) + sep_conv_5x5(h[i-1])
          b3 = avg_pool_3x3(b0) + identity(b1)
          b4 = sep_conv_3x3(b0) + max_pool_3x3(h[i])
          out = concat(b1, b2, b3, b4)

        """;

    public const string Json = """
        {
          "normal": {
            "blocks": [
              {"inputs": [0, 1], "ops": ["sep_conv_5x5", "sep_conv_3x3"], "combine": "add"},
              {"inputs": [1, 1], "ops": ["sep_conv_5x5", "sep_conv_3x3"], "combine": "add"},
              {"inputs": [0, 1], "ops": ["avg_pool_3x3", "identity"], "combine": "add"},
              {"inputs": [1, 1], "ops": ["avg_pool_3x3", "avg_pool_3x3"], "combine": "add"},
              {"inputs": [0, 0], "ops": ["sep_conv_3x3", "identity"], "combine": "add"}
            ],
            "output": [1, 2, 3, 4, 5, 6]
          },
          "reduction": {
            "blocks": [
              {"inputs": [0, 1], "ops": ["sep_conv_5x5", "sep_conv_7x7"], "combine": "add"},
              {"inputs": [0, 1], "ops": ["max_pool_3x3", "sep_conv_7x7"], "combine": "add"},
              {"inputs": [0, 1], "ops": ["avg_pool_3x3", "sep_conv_5x5"], "combine": "add"},
              {"inputs": [2, 3], "ops": ["avg_pool_3x3", "identity"], "combine": "add"},
              {"inputs": [2, 0], "ops": ["sep_conv_3x3", "max_pool_3x3"], "combine": "add"}
            ],
            "output": [3, 4, 5, 6]
          }
        }

        """;
}
