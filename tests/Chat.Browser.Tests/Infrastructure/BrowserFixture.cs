using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Chat.Browser.Tests.Infrastructure;

/// <summary>
/// One real server (the real Program, Kestrel on 127.0.0.1 port 0, its own temporary data folder) and one
/// headless Debian Chromium driven by Playwright, shared by every browser test. Each test makes its own
/// users (unique names) in their own browser contexts, so tests don't see each other.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    private WebApplicationFactory<Program>? _factory;
    private int _counter;

    public IPlaywright Playwright { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;
    public Uri BaseAddress { get; private set; } = null!;
    public string DataDir { get; } = Path.Combine(Path.GetTempPath(), "chat-browser-tests", Guid.NewGuid().ToString("N"));

    /// <summary>Where the screenshots go: docs/images of the repository.</summary>
    public static string ImagesDir { get; } = Path.Combine(FindRepoRoot(), "docs", "images");

    public async Task InitializeAsync()
    {
        (_factory, BaseAddress) = StartServer(DataDir);

        SetDefaultExpectTimeout(15_000); // generous: CI machines are small and sometimes busy
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Environment.GetEnvironmentVariable("CHROMIUM_PATH") is { Length: > 0 } p ? p : "/usr/bin/chromium",
            Headless = true,
            Timeout = 30_000,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
            ],
        });
    }

    /// <summary>Starts a node on a loopback port with its own data folder; <paramref name="settings"/> override the
    /// defaults (rate limits off). Tests that need other settings start their own and dispose it.</summary>
    public static (WebApplicationFactory<Program> Factory, Uri Address) StartServer(string dataDir, params (string Key, string Value)[] settings)
    {
        Directory.CreateDirectory(dataDir);
        var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("Chat:DataDir", dataDir);
            b.UseSetting("Chat:RateLimit:MessagesPerMinute", "0");
            b.UseSetting("Chat:RateLimit:LoginsPerMinute", "0");
            b.UseSetting("Chat:RateLimit:RegistrationsPerMinute", "0");
            foreach (var (key, value) in settings) b.UseSetting(key, value);
        });
        factory.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        factory.StartServer();
        string address = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (factory, new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal)));
    }

    /// <summary>A unique username with a readable prefix, e.g. "alice-3".</summary>
    public string UniqueName(string prefix) => $"{prefix}-{Interlocked.Increment(ref _counter)}{Guid.NewGuid().ToString("N")[..4]}";

    /// <summary>A fresh browser profile (context) with one page on the app.</summary>
    public async Task<ChatUser> NewBrowserAsync(ITestOutputHelper output, string label, int width = 1100, int height = 720, Uri? server = null)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = (server ?? BaseAddress).ToString(),
            ViewportSize = new ViewportSize { Width = width, Height = height },
            Locale = "en-GB",
            TimezoneId = "UTC",
        });
        context.SetDefaultTimeout(15_000);
        context.SetDefaultNavigationTimeout(15_000);
        var user = new ChatUser(context, output, label);
        await user.OpenPageAsync();
        return user;
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.CloseAsync();
        Playwright?.Dispose();
        if (_factory is not null) await _factory.DisposeAsync();
        try { Directory.Delete(DataDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Chat.slnx"))) return dir.FullName;
        }
        return Directory.GetCurrentDirectory();
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "browser";
}
