using Chat.Browser.Tests.Infrastructure;

namespace Chat.Browser.Tests;

[Collection(BrowserCollection.Name)]
public sealed class GroupTests(BrowserFixture fx, ITestOutputHelper output)
{
    [Fact]
    public async Task Group_of_three_messages_read_by_typing_rename_remove_and_leave()
    {
        await using var alice = await fx.NewBrowserAsync(output, "alice");
        await using var bob = await fx.NewBrowserAsync(output, "bob");
        await using var carol = await fx.NewBrowserAsync(output, "carol");
        string bobName = fx.UniqueName("bob"), carolName = fx.UniqueName("carol");
        await alice.SignUpAsync(fx.UniqueName("alice"), "Alice");
        await bob.SignUpAsync(bobName, "Bob");
        await carol.SignUpAsync(carolName, "Carol");

        await alice.CreateGroupAsync("Weekend trip", bobName, carolName);
        await Expect(alice.Page.GetByTestId("conversation-subtitle")).ToContainTextAsync("3 members");

        // The group shows up live for the other two.
        await Expect(ChatUser.ChatItem(bob.Page, "Weekend trip")).ToBeVisibleAsync();
        await Expect(ChatUser.ChatItem(carol.Page, "Weekend trip")).ToBeVisibleAsync();

        await alice.SendAsync("Who's in for Saturday?");
        await Expect(ChatUser.ChatItem(bob.Page, "Weekend trip").GetByTestId("chat-preview")).ToHaveTextAsync("Alice: Who's in for Saturday?");
        await Expect(ChatUser.ChatItem(carol.Page, "Weekend trip").GetByTestId("unread-badge")).ToHaveTextAsync("1");

        // Read by 1, then by 2 = read (coloured ✓✓).
        var readBy = alice.Message("Who's in for Saturday?").GetByTestId("read-by");
        await bob.OpenChatAsync("Weekend trip");
        await Expect(readBy).ToHaveTextAsync("Read by 1");
        await Expect(ChatUser.Status(alice.Page, "Who's in for Saturday?")).Not.ToHaveAttributeAsync("data-status", "read");
        await carol.OpenChatAsync("Weekend trip");
        await Expect(readBy).ToHaveTextAsync("Read by 2");
        await Expect(ChatUser.Status(alice.Page, "Who's in for Saturday?")).ToHaveAttributeAsync("data-status", "read");

        // Senders are named in groups.
        await bob.SendAsync("Me! I'll bring the tent");
        await Expect(carol.Message("Me! I'll bring the tent").GetByTestId("message-sender")).ToHaveTextAsync("Bob");
        await carol.SendAsync("Count me in too");
        await Expect(alice.Message("Count me in too").GetByTestId("message-sender")).ToHaveTextAsync("Carol");

        // Two people typing.
        await bob.Page.GetByTestId("message-input").PressSequentiallyAsync("and snacks");
        await carol.Page.GetByTestId("message-input").PressSequentiallyAsync("I can drive");
        await Expect(alice.Page.GetByTestId("typing-indicator")).ToHaveTextAsync("Bob and Carol are typing…");
        await Expect(ChatUser.ChatItem(alice.Page, "Weekend trip").GetByTestId("chat-preview")).ToHaveTextAsync("2 people are typing…");
        await bob.Page.GetByTestId("message-input").PressAsync("Enter");
        await carol.Page.GetByTestId("message-input").PressAsync("Enter");
        await Expect(alice.Message("I can drive")).ToBeVisibleAsync();
        await Expect(alice.Page.GetByTestId("typing-indicator")).ToHaveTextAsync("");
        await alice.ScreenshotAsync("group.png");

        // Rename (admin): everyone's list and header follow.
        await alice.Page.GetByTestId("group-info").ClickAsync();
        await Expect(alice.Page.GetByTestId("group-member")).ToHaveCountAsync(3);
        await alice.Page.GetByTestId("group-name-input").FillAsync("Weekend trip 🏕");
        await alice.Page.GetByTestId("group-rename").ClickAsync();
        await Expect(alice.Page.GetByTestId("conversation-title")).ToHaveTextAsync("Weekend trip 🏕");
        await Expect(bob.Page.GetByTestId("conversation-title")).ToHaveTextAsync("Weekend trip 🏕");
        await Expect(ChatUser.ChatItem(carol.Page, "Weekend trip 🏕")).ToBeVisibleAsync();

        // Remove Carol: the group leaves her list; Bob and Alice see 2 members.
        await alice.Page.GetByTestId("group-member").Filter(new() { HasText = "Carol" }).GetByTestId("group-remove").ClickAsync();
        await alice.Page.GetByTestId("confirm-ok").ClickAsync();
        await Expect(alice.Page.GetByTestId("group-member")).ToHaveCountAsync(2);
        await alice.Page.GetByTestId("group-close").ClickAsync();
        await Expect(ChatUser.ChatItem(carol.Page, "Weekend trip 🏕")).ToHaveCountAsync(0);
        await Expect(bob.Page.GetByTestId("conversation-subtitle")).ToContainTextAsync("2 members");

        // Bob leaves (confirming in the page's dialog): the chat closes for him.
        await bob.Page.GetByTestId("group-info").ClickAsync();
        await bob.Page.GetByTestId("group-leave").ClickAsync();
        await bob.Page.GetByTestId("confirm-ok").ClickAsync();
        await Expect(bob.Page.GetByTestId("conversation")).ToBeHiddenAsync();
        await Expect(ChatUser.ChatItem(bob.Page, "Weekend trip 🏕")).ToHaveCountAsync(0);
        await Expect(alice.Page.GetByTestId("conversation-subtitle")).ToContainTextAsync("1 member");

        alice.AssertNoConsoleErrors();
        bob.AssertNoConsoleErrors();
        carol.AssertNoConsoleErrors();
    }
}
