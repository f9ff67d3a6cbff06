using System.Text.RegularExpressions;
using Chat.Browser.Tests.Infrastructure;

namespace Chat.Browser.Tests;

[Collection(BrowserCollection.Name)]
public sealed class DirectChatTests(BrowserFixture fx, ITestOutputHelper output)
{
    [Fact]
    public async Task Two_users_sign_up_chat_see_typing_and_ticks_go_to_read()
    {
        await using var alice = await fx.NewBrowserAsync(output, "alice");
        await using var bob = await fx.NewBrowserAsync(output, "bob");
        string aliceName = fx.UniqueName("alice"), bobName = fx.UniqueName("bob");
        await alice.SignUpAsync(aliceName, "Alice");
        await bob.SignUpAsync(bobName, "Bob");

        // Alice starts a direct chat by username and sends the first message.
        await alice.StartDirectChatAsync(bobName);
        await Expect(alice.Page.GetByTestId("conversation-title")).ToHaveTextAsync("Bob");
        await alice.SendAsync("Hi Bob!");
        var firstStatus = ChatUser.Status(alice.Page, "Hi Bob!");
        await Expect(firstStatus).ToHaveAttributeAsync("data-status", new Regex("^(sent|delivered)$"));

        // Bob's list shows the chat with preview, time and an unread badge; his device acked, so Alice sees ✓✓.
        var bobsItem = ChatUser.ChatItem(bob.Page, "Alice");
        await Expect(bobsItem.GetByTestId("chat-preview")).ToHaveTextAsync("Hi Bob!");
        await Expect(bobsItem.GetByTestId("unread-badge")).ToHaveTextAsync("1");
        await Expect(bobsItem.GetByTestId("chat-time")).ToHaveTextAsync(new Regex(@"\d{2}:\d{2}"));
        await Expect(firstStatus).ToHaveAttributeAsync("data-status", "delivered");
        await Expect(firstStatus).ToHaveTextAsync("✓✓");

        // Bob opens it: the message is visible in a focused tab, so it is read; Alice's ticks turn "read".
        await bob.OpenChatAsync("Alice");
        await Expect(bob.Message("Hi Bob!")).ToBeVisibleAsync();
        await Expect(bob.Message("Hi Bob!")).ToHaveAttributeAsync("data-own", "false");
        await Expect(bobsItem.GetByTestId("unread-badge")).ToHaveCountAsync(0);
        await Expect(firstStatus).ToHaveAttributeAsync("data-status", "read");
        await Expect(alice.Page.GetByTestId("conversation-subtitle")).ToHaveTextAsync("online");
        await Expect(ChatUser.ChatItem(alice.Page, "Bob").GetByTestId("presence-dot")).ToHaveAttributeAsync("data-status", "online");

        // Typing: shown in Alice's header area and in her chat list.
        var bobInput = bob.Page.GetByTestId("message-input");
        await bobInput.PressSequentiallyAsync("Hello Alice", new() { Delay = 20 });
        await Expect(alice.Page.GetByTestId("typing-indicator")).ToHaveTextAsync("Bob is typing…");
        await Expect(ChatUser.ChatItem(alice.Page, "Bob").GetByTestId("chat-preview")).ToHaveTextAsync("typing…");

        // Shift+Enter makes a new line, Enter sends; sending stops the typing indicator.
        await bobInput.PressAsync("Shift+Enter");
        await bobInput.PressSequentiallyAsync("how are you?");
        await bobInput.PressAsync("Enter");
        await Expect(bobInput).ToHaveValueAsync("");
        var multi = alice.Page.GetByTestId("message-text").Filter(new() { HasText = "how are you?" });
        await Expect(multi).ToHaveCountAsync(1);
        Assert.Equal("Hello Alice\nhow are you?", await multi.TextContentAsync());
        await Expect(alice.Page.GetByTestId("typing-indicator")).ToHaveTextAsync("");
        await Expect(ChatUser.ChatItem(alice.Page, "Bob").GetByTestId("chat-preview")).ToHaveTextAsync(new Regex("how are you"));

        // Alice has the chat open and focused, so Bob's reply is read at once.
        var bobsReply = bob.Page.GetByTestId("message").Filter(new() { HasText = "how are you?" }).GetByTestId("msg-status");
        await Expect(bobsReply).ToHaveAttributeAsync("data-status", "read");

        await alice.SendAsync("Great, thanks. See you at 3pm at the usual place?");
        await bob.SendAsync("Perfect, see you there");
        await Expect(alice.Message("Perfect, see you there")).ToBeVisibleAsync();
        await Expect(ChatUser.Status(alice.Page, "Great, thanks. See you at 3pm at the usual place?")).ToHaveAttributeAsync("data-status", "read");
        await Expect(alice.Page.GetByTestId("day-separator").First).ToHaveTextAsync("Today");

        // A second chat with unread messages, for a fuller chat list in the screenshot.
        await bob.CreateGroupAsync("Book club", aliceName);
        await bob.SendAsync("Next meeting: Thursday, 7pm");
        await Expect(ChatUser.ChatItem(alice.Page, "Book club").GetByTestId("unread-badge")).ToHaveTextAsync("1");
        await Expect(alice.Page.GetByTestId("conversation-title")).ToHaveTextAsync("Bob");
        await alice.ScreenshotAsync("chat-conversation.png");

        // User content is text, never HTML.
        await alice.SendAsync("<b>not bold</b><img src=x onerror=alert(1)>");
        await Expect(alice.Message("<b>not bold</b><img src=x onerror=alert(1)>")).ToBeVisibleAsync();
        await Expect(alice.Page.Locator(".text b")).ToHaveCountAsync(0);
        await Expect(ChatUser.ChatItem(bob.Page, "Alice").GetByTestId("chat-preview")).ToHaveTextAsync("<b>not bold</b><img src=x onerror=alert(1)>");
        await Expect(bob.Page.Locator("[data-testid=chat-list] b, [data-testid=chat-list] img")).ToHaveCountAsync(0);

        alice.AssertNoConsoleErrors();
        bob.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task Narrow_screen_shows_one_pane_and_history_loads_older_messages_on_scroll()
    {
        await using var alice = await fx.NewBrowserAsync(output, "alice");
        await using var bob = await fx.NewBrowserAsync(output, "bob", width: 390, height: 760);
        string bobName = fx.UniqueName("bob");
        await alice.SignUpAsync(fx.UniqueName("alice"), "Alice");
        await bob.SignUpAsync(bobName, "Bob");
        await alice.StartDirectChatAsync(bobName);

        // 70 messages: more than the first page (50). Typed through the composer form, in one go.
        await alice.Page.EvaluateAsync(@"() => {
            const input = document.querySelector('[data-testid=message-input]');
            const form = document.querySelector('[data-testid=composer]');
            for (let i = 1; i <= 70; i++) { input.value = 'message number ' + i; form.requestSubmit(); }
        }");
        await Expect(ChatUser.Status(alice.Page, "message number 70")).ToHaveAttributeAsync("data-status", new Regex("^(sent|delivered|read)$"));
        await Expect(alice.Page.Locator("[data-testid=message][data-pending]")).ToHaveCountAsync(0, new() { Timeout = 20_000 });

        // Narrow: the list only; opening a chat shows the conversation only, with a back button.
        await Expect(bob.Page.GetByTestId("conversation")).ToBeHiddenAsync();
        await Expect(ChatUser.ChatItem(bob.Page, "Alice").GetByTestId("unread-badge")).ToHaveTextAsync("70");
        await bob.OpenChatAsync("Alice");
        await Expect(bob.Page.GetByTestId("chat-list")).ToBeHiddenAsync();
        await Expect(bob.Message("message number 70")).ToBeVisibleAsync();
        await Expect(bob.Page.GetByTestId("message")).ToHaveCountAsync(50);

        // Scrolling to the top loads the older page (before_seq), keeping order and without duplicates.
        await bob.Page.GetByTestId("messages").EvaluateAsync("el => el.scrollTop = 0");
        await Expect(bob.Page.GetByTestId("message")).ToHaveCountAsync(70);
        await Expect(bob.Page.GetByTestId("older-status")).ToHaveTextAsync("Beginning of the conversation");
        var texts = await bob.Page.GetByTestId("message-text").AllTextContentsAsync();
        Assert.Equal(Enumerable.Range(1, 70).Select(i => $"message number {i}"), texts);

        await bob.Page.GetByTestId("messages").EvaluateAsync("el => el.scrollTop = el.scrollHeight");
        await bob.SendAsync("That was a lot of messages!");
        await Expect(alice.Message("That was a lot of messages!")).ToBeVisibleAsync();
        await bob.ScreenshotAsync("mobile-conversation.png");
        await bob.Page.GetByTestId("back").ClickAsync();
        await Expect(bob.Page.GetByTestId("chat-list")).ToBeVisibleAsync();
        await Expect(ChatUser.ChatItem(bob.Page, "Alice").GetByTestId("unread-badge")).ToHaveCountAsync(0);

        alice.AssertNoConsoleErrors();
        bob.AssertNoConsoleErrors();
    }
}
