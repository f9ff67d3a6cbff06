using Chat.Browser.Tests.Infrastructure;

namespace Chat.Browser.Tests;

/// <summary>Notifications in the web client (docs/push.md): permission on request only, hidden-tab notifications, badge, per-chat settings.</summary>
[Collection(BrowserCollection.Name)]
public sealed class NotificationTests(BrowserFixture fx, ITestOutputHelper output)
{
    // Records notifications the page shows and lets the test hide the tab (headless pages are always "visible").
    private const string Recorder = """
        (() => {
          window.__shown = [];
          window.__hidden = false;
          Object.defineProperty(document, 'hidden', { configurable: true, get: () => window.__hidden });
          const Real = window.Notification;
          class Recorded extends Real {
            constructor(title, options) { super(title, options); window.__shown.push({ title, body: options?.body ?? '', tag: options?.tag ?? '' }); }
          }
          Object.defineProperty(Recorded, 'permission', { get: () => Real.permission });
          Recorded.requestPermission = (...a) => Real.requestPermission(...a);
          window.Notification = Recorded;
        })();
        """;

    [Fact]
    public async Task Permission_is_not_asked_on_load_and_a_hidden_tab_notifies_with_badge_and_per_chat_mute()
    {
        await using var alice = await fx.NewBrowserAsync(output, "alice");
        await using var bob = await fx.NewBrowserAsync(output, "bob");
        string bobName = fx.UniqueName("bob");
        await alice.SignUpAsync(fx.UniqueName("alice"), "Alice");
        await bob.SignUpAsync(bobName, "Bob");

        // Nothing was asked on first load: the permission is still undecided.
        Assert.Equal("default", await bob.Page.EvaluateAsync<string>("() => Notification.permission"));
        await Expect(bob.Page.GetByTestId("notifications-toggle")).ToHaveAttributeAsync("aria-pressed", "false");

        await bob.Context.GrantPermissionsAsync(["notifications"], new() { Origin = fx.BaseAddress.GetLeftPart(UriPartial.Authority) });
        await bob.Context.AddInitScriptAsync(Recorder);
        await bob.Page.ReloadAsync();
        await ChatUser.WaitOnlineAsync(bob.Page);
        await bob.Page.GetByTestId("notifications-toggle").ClickAsync();
        await Expect(bob.Page.GetByTestId("notifications-toggle")).ToHaveAttributeAsync("aria-pressed", "true");

        await alice.StartDirectChatAsync(bobName);
        await alice.SendAsync("first hello");
        await Expect(ChatUser.ChatItem(bob.Page, "Alice")).ToBeVisibleAsync();

        // Tab hidden: a live message shows a desktop notification; the favicon and title carry the unread count.
        await bob.Page.EvaluateAsync("() => { window.__hidden = true; }");
        await alice.SendAsync("are you there?");
        await bob.Page.WaitForFunctionAsync("() => window.__shown.length >= 1");
        Assert.Equal("Alice", await bob.Page.EvaluateAsync<string>("() => window.__shown.at(-1).title"));
        Assert.Equal("are you there?", await bob.Page.EvaluateAsync<string>("() => window.__shown.at(-1).body"));
        await Expect(bob.Page.Locator("link[rel=icon]")).ToHaveAttributeAsync("data-unread", "2");
        await Expect(bob.Page).ToHaveTitleAsync("(2) Chat");

        // Per-chat setting: "Nothing" is saved on the server and silences the chat (and takes it out of the badge).
        await bob.Page.EvaluateAsync("() => { window.__hidden = false; }");
        await bob.OpenChatAsync("Alice");
        await bob.Page.GetByTestId("chat-notify").SelectOptionAsync("none");
        await Expect(bob.Page.Locator("link[rel=icon]")).ToHaveAttributeAsync("data-unread", "0");
        await bob.Page.GotoAsync("/#/");
        await bob.Page.ReloadAsync();
        await ChatUser.WaitOnlineAsync(bob.Page);
        await bob.OpenChatAsync("Alice");
        await Expect(bob.Page.GetByTestId("chat-notify")).ToHaveValueAsync("none");

        await bob.Page.EvaluateAsync("() => { window.__hidden = true; }");
        await alice.SendAsync("muted one");
        await alice.SendAsync("muted two");
        await Expect(bob.Message("muted two")).ToBeAttachedAsync();
        Assert.Equal(0, await bob.Page.EvaluateAsync<int>("() => window.__shown.length")); // a fresh page after the reload

        alice.AssertNoConsoleErrors();
        // Test contexts are incognito, where Chromium itself logs that it has no Push API (the page falls back to
        // desktop notifications only); any other console error fails the test.
        Assert.All(bob.ConsoleErrors, e => Assert.Contains("does not support the Push API in incognito mode", e, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Opening_a_chat_marks_the_first_unread_with_a_divider_and_a_jump_button_scrolls_to_it()
    {
        await using var alice = await fx.NewBrowserAsync(output, "alice");
        await using var bob = await fx.NewBrowserAsync(output, "bob");
        string bobName = fx.UniqueName("bob");
        await alice.SignUpAsync(fx.UniqueName("alice"), "Alice");
        await bob.SignUpAsync(bobName, "Bob");

        await alice.StartDirectChatAsync(bobName);
        await alice.SendAsync("seen 1");
        await alice.SendAsync("seen 2");
        await bob.OpenChatAsync("Alice");
        await Expect(bob.Message("seen 2")).ToBeVisibleAsync();
        await Expect(alice.Page.GetByTestId("msg-status").Last).ToHaveAttributeAsync("data-status", "read");
        await bob.Page.GotoAsync("/#/");

        // Enough new messages to fill more than the visible part of the list.
        for (int i = 1; i <= 30; i++) await alice.SendAsync("new " + i);
        await Expect(ChatUser.ChatItem(bob.Page, "Alice").GetByTestId("unread-badge")).ToHaveTextAsync("30");
        // A fresh page, as when coming back to the app: the chat's history is loaded when it is opened.
        await bob.Page.ReloadAsync();
        await ChatUser.WaitOnlineAsync(bob.Page);

        await bob.OpenChatAsync("Alice");
        var divider = bob.Page.GetByTestId("unread-divider");
        await Expect(divider).ToBeAttachedAsync();
        // The divider sits right before the first unread message, after the ones read before.
        Assert.Equal("new 1", await divider.EvaluateAsync<string>("d => d.nextElementSibling.querySelector('[data-testid=message-text]').textContent"));
        Assert.Equal("seen 2", await divider.EvaluateAsync<string>("d => d.previousElementSibling.querySelector('[data-testid=message-text]')?.textContent ?? ''"));

        // The chat opens at the newest message; the divider is above the visible part, so the jump button shows.
        await bob.Message("new 30").ScrollIntoViewIfNeededAsync();
        await Expect(bob.Page.GetByTestId("jump-to-unread")).ToBeVisibleAsync();
        await bob.Page.GetByTestId("jump-to-unread").ClickAsync();
        await Expect(divider).ToBeInViewportAsync();
        await Expect(bob.Page.GetByTestId("jump-to-unread")).ToBeHiddenAsync();

        // Reading everything does not move the divider while the chat stays open.
        await Expect(ChatUser.ChatItem(bob.Page, "Alice").GetByTestId("unread-badge")).ToHaveCountAsync(0);
        Assert.Equal("new 1", await divider.EvaluateAsync<string>("d => d.nextElementSibling.querySelector('[data-testid=message-text]').textContent"));

        alice.AssertNoConsoleErrors();
        bob.AssertNoConsoleErrors();
    }
}
