using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace Chat.Browser.Tests.Infrastructure;

/// <summary>
/// One browser profile (Playwright context) of one person, with page-object helpers over the web client's
/// data-testid attributes. Every console error or uncaught page error is recorded; <see cref="AssertNoConsoleErrors"/>
/// fails the test on any (network errors are tolerated only while <see cref="ExpectNetworkErrors"/> is set).
/// </summary>
public sealed partial class ChatUser : IAsyncDisposable
{
    private readonly ITestOutputHelper _output;
    private readonly List<IPage> _pages = [];

    public ChatUser(IBrowserContext context, ITestOutputHelper output, string label)
    {
        Context = context;
        _output = output;
        Label = label;
    }

    public IBrowserContext Context { get; }
    public string Label { get; }
    public IPage Page => _pages[0];
    public string Username { get; private set; } = "";
    public string DisplayName { get; private set; } = "";
    public ConcurrentQueue<string> ConsoleErrors { get; } = new();

    /// <summary>While true, failed network requests (the test took the browser offline) are not errors.</summary>
    public bool ExpectNetworkErrors { get; set; }

    /// <summary>Opens another tab of this profile (same localStorage, so the same signed-in device).</summary>
    public async Task<IPage> OpenPageAsync()
    {
        var page = await Context.NewPageAsync();
        string tab = $"{Label}#{_pages.Count + 1}";
        page.Console += (_, msg) =>
        {
            if (msg.Type != "error") return;
            if (ExpectNetworkErrors && NetworkError().IsMatch(msg.Text)) return;
            ConsoleErrors.Enqueue($"[{tab}] console.error: {msg.Text}");
            _output.WriteLine($"[{tab}] console.error: {msg.Text}");
        };
        page.PageError += (_, err) =>
        {
            ConsoleErrors.Enqueue($"[{tab}] page error: {err}");
            _output.WriteLine($"[{tab}] page error: {err}");
        };
        _pages.Add(page);
        await page.GotoAsync("/");
        return page;
    }

    public void AssertNoConsoleErrors() =>
        Assert.True(ConsoleErrors.IsEmpty, $"{Label}: browser console errors:\n{string.Join('\n', ConsoleErrors)}");

    // ------------------------------------------------------------------ auth

    public async Task SignUpAsync(string username, string displayName)
    {
        Username = username;
        DisplayName = displayName;
        var p = Page;
        await Expect(p.GetByTestId("auth-view")).ToBeVisibleAsync();
        await p.GetByTestId("tab-register").ClickAsync();
        await p.GetByTestId("auth-username").FillAsync(username);
        await p.GetByTestId("auth-display-name").FillAsync(displayName);
        await p.GetByTestId("auth-password").FillAsync("correct-horse-1");
        await p.GetByTestId("auth-submit").ClickAsync();
        await Expect(p.GetByTestId("main-view")).ToBeVisibleAsync();
        await Expect(p.GetByTestId("me-name")).ToHaveTextAsync(displayName);
        await WaitOnlineAsync(p);
    }

    public async Task SignInAsync(string username, IPage? page = null)
    {
        Username = username;
        var p = page ?? Page;
        await Expect(p.GetByTestId("auth-view")).ToBeVisibleAsync();
        await p.GetByTestId("auth-username").FillAsync(username);
        await p.GetByTestId("auth-password").FillAsync("correct-horse-1");
        await p.GetByTestId("auth-submit").ClickAsync();
        await Expect(p.GetByTestId("main-view")).ToBeVisibleAsync();
        await WaitOnlineAsync(p);
    }

    public static Task WaitOnlineAsync(IPage page, float timeoutMs = 10_000) =>
        Expect(page.GetByTestId("connection-status")).ToHaveAttributeAsync("data-state", "online", new() { Timeout = timeoutMs });

    // ------------------------------------------------------------------ chats

    public async Task StartDirectChatAsync(string username)
    {
        var p = Page;
        await p.GetByTestId("new-chat").ClickAsync();
        await p.GetByTestId("new-chat-username").FillAsync(username);
        await p.GetByTestId("new-chat-submit").ClickAsync();
        await Expect(p.GetByTestId("dialog-new-chat")).ToBeHiddenAsync();
        await Expect(p.GetByTestId("conversation")).ToBeVisibleAsync();
    }

    public async Task CreateGroupAsync(string name, params string[] usernames)
    {
        var p = Page;
        await p.GetByTestId("new-group").ClickAsync();
        await p.GetByTestId("new-group-name").FillAsync(name);
        await p.GetByTestId("new-group-members").FillAsync(string.Join(", ", usernames));
        await p.GetByTestId("new-group-submit").ClickAsync();
        await Expect(p.GetByTestId("dialog-new-group")).ToBeHiddenAsync();
        await Expect(p.GetByTestId("conversation-title")).ToHaveTextAsync(name);
    }

    public static ILocator ChatItem(IPage page, string title) =>
        page.GetByTestId("chat-item").Filter(new() { Has = page.GetByTestId("chat-title").GetByText(title, new() { Exact = true }) });

    public async Task OpenChatAsync(string title, IPage? page = null)
    {
        var p = page ?? Page;
        await ChatItem(p, title).ClickAsync();
        await Expect(p.GetByTestId("conversation-title")).ToHaveTextAsync(title);
    }

    // ------------------------------------------------------------------ messages

    public static async Task SendAsync(IPage page, string text)
    {
        var input = page.GetByTestId("message-input");
        await input.FillAsync(text);
        await input.PressAsync("Enter");
        await Expect(input).ToHaveValueAsync("");
    }

    public Task SendAsync(string text) => SendAsync(Page, text);

    /// <summary>The message bubble whose text is exactly <paramref name="text"/>.</summary>
    public static ILocator Message(IPage page, string text) =>
        page.GetByTestId("message").Filter(new() { Has = page.GetByTestId("message-text").GetByText(text, new() { Exact = true }) });

    public ILocator Message(string text) => Message(Page, text);

    public static ILocator Status(IPage page, string text) => Message(page, text).GetByTestId("msg-status");

    public async Task ScreenshotAsync(string fileName, IPage? page = null)
    {
        Directory.CreateDirectory(BrowserFixture.ImagesDir);
        await (page ?? Page).ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ImagesDir, fileName), Animations = ScreenshotAnimations.Disabled });
    }

    public async ValueTask DisposeAsync() => await Context.CloseAsync();

    [GeneratedRegex("WebSocket|ERR_INTERNET_DISCONNECTED|ERR_CONNECTION|Failed to load resource|net::", RegexOptions.IgnoreCase)]
    private static partial Regex NetworkError();
}
