using Microsoft.Playwright;

namespace NasActors.Tests.Support;

/// <summary>
/// Headless Chromium (the system's /usr/bin/chromium, or NAS_CHROMIUM where another build is
/// installed, as Ubuntu's snap; driven by Playwright) with a fresh profile,
/// and the page's errors collected: a test fails on any script error or console error.
/// </summary>
public sealed class Chromium : IAsyncDisposable
{
    public static readonly string Executable = Environment.GetEnvironmentVariable("NAS_CHROMIUM") is { Length: > 0 } own ? own : "/usr/bin/chromium";

    private readonly IPlaywright playwright;
    private readonly IBrowserContext context;
    private readonly TempDir profile;

    private Chromium(IPlaywright playwright, IBrowserContext context, TempDir profile)
    {
        (this.playwright, this.context, this.profile) = (playwright, context, profile);
    }

    public List<string> Errors { get; } = [];

    public static async Task<Chromium> StartAsync()
    {
        if (!File.Exists(Executable))
            throw new InvalidOperationException($"{Executable} is missing: install Debian's chromium package (./run-tests does)");
        var playwright = await Playwright.CreateAsync();
        var profile = new TempDir();
        var context = await playwright.Chromium.LaunchPersistentContextAsync(profile.Path, new BrowserTypeLaunchPersistentContextOptions
        {
            ExecutablePath = Executable,
            Headless = true,
            ViewportSize = new ViewportSize { Width = 1400, Height = 1000 },
            // This machine has no network: without these Chromium floods it with refused background connections.
            Args = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        return new Chromium(playwright, context, profile);
    }

    /// <summary>Opens <paramref name="url"/> and waits until the report script has rendered.</summary>
    public async Task<IPage> OpenAsync(string url)
    {
        var page = await context.NewPageAsync();
        page.Console += (_, m) => { if (m.Type == "error") Errors.Add($"console: {m.Text}"); };
        page.PageError += (_, e) => Errors.Add($"page: {e}");
        await page.GotoAsync(url);
        await page.WaitForFunctionAsync("() => window.nasReport && window.nasReport.ready", null, new PageWaitForFunctionOptions { Timeout = 60_000 });
        return page;
    }

    public async ValueTask DisposeAsync()
    {
        await context.CloseAsync();
        playwright.Dispose();
        profile.Dispose();
    }
}
