using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NasActors.Cli.Commands;
using NasActors.Persistence;
using NasActors.Search;
using NasActors.Tests.Support;

namespace NasActors.Tests.Cli;

/// <summary>
/// The README and the guide hold: their links resolve, the settings reference is the code's, the
/// example settings files are valid, and every <c>./nas</c> line of a <c>```sh</c> block runs (long
/// searches at tiny sizes); a <c>```sh parse-only</c> block (GPUs, a cluster, PostgreSQL, a server
/// that never ends) is checked by nas's own command-line parser.
/// </summary>
public partial class DocsTests
{
    private static readonly string Root = NasProcess.RepositoryRoot;

    /// <summary>The documents whose commands run, in the order a reader meets them (later ones use runs/demo).</summary>
    private static readonly string[] Guide =
        ["README.md", "docs/guide/install.md", "docs/guide/search.md", "docs/guide/results.md", "docs/guide/exec-trainer.md", "docs/guide/faq.md", "docs/guide/commands.md", "docs/guide/settings.md"];

    private static IEnumerable<string> Markdown() =>
        Directory.GetFiles(Path.Combine(Root, "docs"), "*.md", SearchOption.AllDirectories).Prepend(Path.Combine(Root, "README.md"));

    [Fact]
    public void Every_link_of_the_readme_and_the_docs_resolves_to_a_file_and_heading_in_the_repository()
    {
        var broken = new List<string>();
        foreach (var file in Markdown())
        {
            var text = WithoutCode(File.ReadAllText(file));
            foreach (Match m in Link().Matches(text))
            {
                var target = m.Groups[1].Value;
                if (target.StartsWith("http://", StringComparison.Ordinal) || target.StartsWith("https://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal)) continue;
                var (path, anchor) = target.IndexOf('#') is var i and >= 0 ? (target[..i], target[(i + 1)..]) : (target, null);
                var resolved = path.Length == 0 ? file : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, path));
                var where = $"{Path.GetRelativePath(Root, file)}: ({target})";
                if (!resolved.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal) && resolved != Root) broken.Add($"{where} points outside the repository");
                else if (!File.Exists(resolved) && !Directory.Exists(resolved)) broken.Add($"{where} does not exist");
                else if (anchor is not null && (!resolved.EndsWith(".md", StringComparison.Ordinal) || !Slugs(File.ReadAllText(resolved)).Contains(anchor))) broken.Add($"{where} has no heading #{anchor}");
            }
        }
        Assert.Empty(broken);
    }

    [Fact]
    public void The_settings_reference_names_every_key_with_the_default_a_new_search_stores()
    {
        var rows = Rows(File.ReadAllText(Path.Combine(Root, "docs", "guide", "settings.md")));
        // Every key there is: a search with every optional key given.
        var full = SearchSettings.NewSearch with
        {
            Space = "darts", EarlyStop = new EarlyStopSettings(), Objectives = ["accuracy", "params"], Constraints = new Dictionary<string, double> { ["params"] = 1 },
            PpoReward = ObjectiveSet.DefaultReward, LatencyBatch = 1,
        };
        full = full with { Search = full.Search with { Precision = "fp32", ChannelsLast = true, CudnnBenchmark = true, Image = 32, Augment = "auto" } };
        var keys = Keys(JsonSerializer.SerializeToNode(full, SettingsJson.Options)!.AsObject(), "")
            .Select(k => k.StartsWith("search.", StringComparison.Ordinal) ? k["search.".Length..] : k).ToHashSet();
        keys.UnionWith(["search", "final"]);
        Assert.Equal(keys.Order(), rows.Keys.Order());

        // What a key left out means: the stored defaults of a new search, and the meaning of an absent optional key.
        var stored = JsonSerializer.SerializeToNode(SearchSettings.NewSearch, SettingsJson.Options)!.AsObject();
        var absent = new Dictionary<string, string>
        {
            ["space"] = "nasnet", ["ppo_reward"] = ObjectiveSet.DefaultReward, ["latency_batch"] = "1", ["precision"] = "fp32", ["channels_last"] = "false",
            ["cudnn_benchmark"] = "false", ["augment"] = "auto", ["early_stop"] = "none", ["objectives"] = "none", ["constraints"] = "none",
        };
        foreach (var (key, value) in JsonSerializer.SerializeToNode(new EarlyStopSettings(), SettingsJson.Options)!.AsObject())
            absent[$"early_stop.{key}"] = Text(value);
        string Default(JsonObject o, string key) => o.TryGetPropertyValue(key, out var value) ? Text(value) : absent[key];
        foreach (var (key, defaults) in rows)
        {
            if (key is "search" or "final" or "image") continue;
            var expected = defaults.Length == 1
                ? [Default(stored, key)]
                : new[] { "search", "final" }.Select(spec => Default(stored[spec]!.AsObject(), key)).ToArray();
            Assert.True(expected.SequenceEqual(defaults), $"settings.md: {key}: documented {string.Join(" / ", defaults)}, the code's {string.Join(" / ", expected)}");
        }
    }

    [Fact]
    public void The_example_settings_files_are_valid_and_each_is_used_in_the_guide()
    {
        var guide = string.Concat(Guide.Select(d => File.ReadAllText(Path.Combine(Root, d))));
        var examples = Directory.GetFiles(Path.Combine(Root, "examples"), "*.json");
        Assert.NotEmpty(examples);
        foreach (var file in examples)
        {
            var settings = SettingsJson.Read(file, null);
            Assert.Empty(settings.Errors(NasActors.Controller.Strategies.StrategyCatalog.Names));
            Assert.Contains($"examples/{Path.GetFileName(file)}", guide);
        }
    }

    [Fact]
    public void Every_command_of_the_operations_page_parses()
    {
        var commands = Commands(File.ReadAllText(Path.Combine(Root, "docs", "operations.md")), OperatorCommand()).ToList();
        Assert.True(commands.Count >= 4, $"only {commands.Count} commands found");
        foreach (var (command, _) in commands)
        {
            var parse = NasCommands.Create().Parse(Words(command));
            Assert.True(parse.Errors.Count == 0, $"operations.md: nas {command}: {string.Join("; ", parse.Errors.Select(e => e.Message))}");
        }
    }

    [Fact]
    public void Every_command_of_the_readme_and_the_guide_runs()
    {
        using var dir = new TempDir();
        // The reader's checkout: the example settings files and the bundled data where the docs name them.
        Directory.CreateSymbolicLink(Path.Combine(dir.Path, "examples"), Path.Combine(Root, "examples"));
        var ran = new List<string>();
        var parsed = 0;
        foreach (var doc in Guide)
        {
            foreach (var (command, run) in Commands(File.ReadAllText(Path.Combine(Root, doc))))
            {
                var args = Words(command);
                var parse = NasCommands.Create().Parse(args);
                Assert.True(parse.Errors.Count == 0, $"{doc}: ./nas {command}: {string.Join("; ", parse.Errors.Select(e => e.Message))}");
                if (!run)
                {
                    parsed++;
                    continue;
                }
                var start = NasProcess.StartInfo([.. Tiny(args)]);
                start.WorkingDirectory = dir.Path;
                var r = NasProcess.RunToEnd(start, TimeSpan.FromMinutes(4));
                Assert.True(r.ExitCode == 0, $"{doc}: ./nas {command} (as {string.Join(' ', Tiny(args))}) exited {r.ExitCode}: {r.Stderr}");
                ran.Add(command);
            }
        }
        // The README's main command is among them, and the guide shows the forms that need hardware too.
        Assert.Contains("search --run runs/demo", ran);
        Assert.True(ran.Count >= 20, $"only {ran.Count} commands ran");
        Assert.True(parsed >= 5, $"only {parsed} commands were parsed");
    }

    /// <summary>A long command at tiny sizes: a search of 2 children of one epoch on 64 images, a training of one epoch.</summary>
    private static List<string> Tiny(IReadOnlyList<string> args)
    {
        var tiny = args[0] switch
        {
            "search" => new Dictionary<string, string>
            {
                // A tenth of the children (at least 1, at most 6): a budget grown on resume still grows.
                ["--children"] = $"{Math.Clamp((Value(args, "--children") ?? 20) / 10, 1, 6)}", ["--top-k"] = "1", ["--epochs"] = args.Contains("--early-stop") ? "3" : "1", ["--train-limit"] = "64", ["--validation"] = "32",
                ["--cells"] = "1", ["--filters"] = "4", ["--final-cells"] = "1", ["--final-filters"] = "4", ["--final-epochs"] = "1",
                ["--final-train-limit"] = "64", ["--final-validation"] = "32",
            },
            "train" => new Dictionary<string, string> { ["--epochs"] = "1", ["--train-limit"] = "64", ["--validation"] = "32", ["--cells"] = "1", ["--filters"] = "4" },
            _ => [],
        };
        var result = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            result.Add(args[i]);
            if (tiny.Remove(args[i], out var value) && i + 1 < args.Count)
            {
                result.Add(value);
                i++;
            }
        }
        foreach (var (option, value) in tiny) result.AddRange([option, value]);
        return result;
    }

    private static int? Value(IReadOnlyList<string> args, string option) =>
        args.ToList().IndexOf(option) is var i and >= 0 && i + 1 < args.Count && int.TryParse(args[i + 1], out var n) ? n : null;

    /// <summary>
    /// Each nas command of the <c>```sh</c> blocks (lines continued with a backslash joined), from the
    /// word after nas, and whether it runs (not in a parse-only block). <paramref name="nas"/>: where
    /// a line's command starts (default: the line starts with <c>./nas</c>).
    /// </summary>
    private static IEnumerable<(string Command, bool Run)> Commands(string markdown, Regex? nas = null)
    {
        nas ??= GuideCommand();
        string? block = null;
        var pending = "";
        foreach (var line in markdown.Split('\n'))
        {
            var trimmed = line.Trim();
            if (trimmed.StartsWith("```", StringComparison.Ordinal))
            {
                block = block is null ? trimmed[3..].Trim() : null;
                continue;
            }
            if (block is not ("sh" or "sh parse-only")) continue;
            if (trimmed.EndsWith('\\'))
            {
                pending += trimmed[..^1] + " ";
                continue;
            }
            var whole = pending + trimmed;
            pending = "";
            if (nas.Match(whole) is { Success: true } m) yield return (whole[(m.Index + m.Length)..], block == "sh");
        }
    }

    /// <summary>A command line's words, as the shell splits them (quotes kept together), up to a pipe, a redirection or a comment.</summary>
    private static List<string> Words(string line)
    {
        var words = new List<string>();
        var word = new System.Text.StringBuilder();
        var quote = '\0';
        var inWord = false;
        foreach (var c in line)
        {
            if (quote != '\0')
            {
                if (c == quote) quote = '\0';
                else word.Append(c);
            }
            else if (c is '"' or '\'') { quote = c; inWord = true; }
            else if (c is '|' or '>' or '#' or ';' or '&') break;
            else if (char.IsWhiteSpace(c))
            {
                if (inWord) words.Add(word.ToString());
                word.Clear();
                inWord = false;
            }
            else { word.Append(c); inWord = true; }
        }
        if (inWord) words.Add(word.ToString());
        return words;
    }

    /// <summary>The settings tables' rows: the key (search/final keys once), and its default column(s).</summary>
    private static Dictionary<string, string[]> Rows(string markdown)
    {
        var rows = new Dictionary<string, string[]>();
        foreach (var line in markdown.Split('\n').Where(l => l.StartsWith("| `", StringComparison.Ordinal)))
        {
            var cells = line.Trim().Trim('|').Split(" | ").Select(c => c.Trim()).ToArray();
            var key = cells[0].Trim('`');
            Assert.True(rows.TryAdd(key, cells[1..^1].Select(c => c.Trim('`')).ToArray()), $"settings.md: {key} twice");
        }
        return rows;
    }

    private static IEnumerable<string> Keys(JsonObject o, string prefix) =>
        o.SelectMany(p => p.Value is JsonObject inner && p.Key != "constraints"
            ? Keys(inner, $"{prefix}{p.Key}.").Prepend($"{prefix}{p.Key}")
            : [$"{prefix}{p.Key}"])
        .Where(k => !k.StartsWith("final.", StringComparison.Ordinal));

    private static string Text(JsonNode? value) => value switch
    {
        null => "null",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => value.ToJsonString(),
    };

    /// <summary>GitHub's anchors of a document's headings: lower case, punctuation dropped, spaces as hyphens.</summary>
    private static HashSet<string> Slugs(string markdown) =>
        WithoutCode(markdown).Split('\n').Where(l => l.StartsWith('#')).Select(l => Regex.Replace(l.TrimStart('#').Trim().ToLowerInvariant(), @"[^\p{L}\p{N} _-]", "").Replace(' ', '-')).ToHashSet();

    private static string WithoutCode(string markdown) => Fence().Replace(markdown, "");

    [GeneratedRegex(@"^\./nas ")]
    private static partial Regex GuideCommand();

    [GeneratedRegex(@"(^|\s)(\./nas|/opt/nasactors/nas|""\$NAS"") ")]
    private static partial Regex OperatorCommand();

    [GeneratedRegex(@"\]\(([^)\s]+)\)")]
    private static partial Regex Link();

    [GeneratedRegex(@"```.*?```", RegexOptions.Singleline)]
    private static partial Regex Fence();
}
