using Chat.Browser.Tests.Infrastructure;

namespace Chat.Browser.Tests;

/// <summary>
/// Opening a chat at a search hit far back in history (a window around it, neighbours on scrolling, live messages
/// kept off the hole, "Jump to latest"), search scoped to the open chat, and people search in the dialogs
/// (wwwroot/js/ui/search.js, conversation.js, store/conversations.js, people-picker.js).
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class SearchNavigationTests(BrowserFixture fx, ITestOutputHelper output)
{
    private const int Count = 150;

    private static string Text(int i) => i switch
    {
        5 => "zebra crossing at five",
        75 => "yak shaving at seventy-five",
        _ => $"message number {i}",
    };

    [Fact]
    public async Task A_hit_far_back_opens_the_chat_at_it_and_scrolling_loads_its_neighbours()
    {
        await using var alice = await fx.NewBrowserAsync(output, "alice");
        await using var bob = await fx.NewBrowserAsync(output, "bob");
        string bobName = fx.UniqueName("bob");
        await alice.SignUpAsync(fx.UniqueName("alice"), "Alice");
        await bob.SignUpAsync(bobName, "Bob");
        await alice.StartDirectChatAsync(bobName);
        await alice.Page.EvaluateAsync(@"(n) => {
            const input = document.querySelector('[data-testid=message-input]');
            const form = document.querySelector('[data-testid=composer]');
            for (let i = 1; i <= n; i++) {
                input.value = i === 5 ? 'zebra crossing at five' : i === 75 ? 'yak shaving at seventy-five' : 'message number ' + i;
                form.requestSubmit();
            }
        }", Count);
        await Expect(alice.Page.Locator("[data-testid=message][data-pending]")).ToHaveCountAsync(0, new() { Timeout = 30_000 });
        await Expect(alice.Message(Text(Count))).Not.ToHaveAttributeAsync("data-status", "pending");

        // Bob finds message 5 of 150: the chat opens at it, highlighted, without the newest messages.
        var search = bob.Page.GetByTestId("search-input");
        await search.FillAsync("zebra");
        await bob.Page.GetByTestId("search-result").ClickAsync();
        var hit = bob.Message(Text(5));
        await Expect(hit).ToBeInViewportAsync();
        await Expect(hit).ToHaveAttributeAsync("data-highlighted", "true");
        await Expect(bob.Page.GetByTestId("conversation-title")).ToHaveTextAsync("Alice");
        await Expect(bob.Message(Text(Count))).ToHaveCountAsync(0);
        await Expect(bob.Page.GetByTestId("older-status")).ToHaveTextAsync("Beginning of the conversation");
        var latest = bob.Page.GetByTestId("jump-to-latest");
        await Expect(latest).ToBeVisibleAsync();

        // A live message does not land after the hole.
        await alice.SendAsync("live while bob reads old messages");
        await Expect(ChatUser.ChatItem(bob.Page, "Alice").GetByTestId("chat-preview")).ToContainTextAsync("live while bob reads old messages");
        await Expect(bob.Message("live while bob reads old messages")).ToHaveCountAsync(0);

        // Scrolling down loads the newer pages until the window meets the live end, the live message included.
        var scroller = bob.Page.GetByTestId("messages");
        var last = bob.Message("live while bob reads old messages");
        for (int i = 0; i < 20 && await last.CountAsync() == 0; i++)
        {
            await scroller.EvaluateAsync("el => el.scrollTop = el.scrollHeight");
            await bob.Page.WaitForTimeoutAsync(300);
        }
        await Expect(last).ToHaveCountAsync(1);
        await Expect(latest).ToBeHiddenAsync();
        var expected = Enumerable.Range(1, Count).Select(Text).Append("live while bob reads old messages");
        Assert.Equal(expected, await bob.Page.GetByTestId("message-text").AllTextContentsAsync());

        // Now joined to the live end: live messages append again.
        await alice.SendAsync("and one more");
        await Expect(bob.Message("and one more")).ToBeVisibleAsync();

        // A fresh page with no chat open (an open chat's newest page would be paged back to 75 instead):
        // message 75 opens with its neighbours only; scrolling up loads the older ones.
        await bob.Page.GotoAsync("/");
        await ChatUser.WaitOnlineAsync(bob.Page);
        await bob.Page.GetByTestId("search-input").FillAsync("yak shav");
        await bob.Page.GetByTestId("search-result").ClickAsync();
        await Expect(bob.Message(Text(75))).ToBeInViewportAsync();
        await Expect(bob.Message(Text(75))).ToHaveAttributeAsync("data-highlighted", "true");
        await Expect(bob.Message(Text(40))).ToHaveCountAsync(0);
        await Expect(bob.Message(Text(110))).ToHaveCountAsync(0);
        for (int i = 0; i < 20 && await bob.Message(Text(40)).CountAsync() == 0; i++)
        {
            await scroller.EvaluateAsync("el => el.scrollTop = 0");
            await bob.Page.WaitForTimeoutAsync(300);
        }
        await Expect(bob.Message(Text(40))).ToHaveCountAsync(1);
        var texts = await bob.Page.GetByTestId("message-text").AllTextContentsAsync();
        int first = int.Parse(texts[0].Replace("message number ", "", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(Enumerable.Range(first, texts.Count).Select(Text), texts); // one unbroken range, no duplicates

        // "Jump to latest" goes to the newest page, the live message at the end.
        await alice.SendAsync("newest of all");
        await latest.ClickAsync();
        await Expect(bob.Message("newest of all")).ToBeInViewportAsync();
        await Expect(latest).ToBeHiddenAsync();
        await Expect(bob.Message(Text(75))).ToHaveCountAsync(0);
        Assert.Equal("newest of all", (await bob.Page.GetByTestId("message-text").AllTextContentsAsync())[^1]);

        alice.AssertNoConsoleErrors();
        bob.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task Search_in_this_chat_returns_only_the_open_chats_messages()
    {
        await using var alice = await fx.NewBrowserAsync(output, "alice");
        await using var bob = await fx.NewBrowserAsync(output, "bob");
        await using var carol = await fx.NewBrowserAsync(output, "carol");
        string bobName = fx.UniqueName("bob"), carolName = fx.UniqueName("carol");
        await alice.SignUpAsync(fx.UniqueName("alice"), "Alice");
        await bob.SignUpAsync(bobName, "Bob");
        await carol.SignUpAsync(carolName, "Carol");
        await alice.StartDirectChatAsync(bobName);
        await alice.SendAsync("budget for the bob project");
        await alice.StartDirectChatAsync(carolName);
        await alice.SendAsync("budget for the carol project");

        var search = alice.Page.GetByTestId("search-input");
        var results = alice.Page.GetByTestId("search-result-text");
        await search.FillAsync("budget");
        await Expect(results).ToHaveCountAsync(2);

        // Carol's chat is open: scoped, only hers.
        await alice.Page.GetByTestId("search-this-chat").CheckAsync();
        await Expect(results).ToHaveTextAsync(["budget for the carol project"]);

        // Open Bob's chat from a result of all chats; scoped there, only his.
        await search.FillAsync("bob project");
        await alice.Page.GetByTestId("search-this-chat").UncheckAsync();
        await Expect(results).ToHaveTextAsync(["budget for the bob project"]);
        await alice.Page.GetByTestId("search-result").ClickAsync();
        await Expect(alice.Page.GetByTestId("conversation-title")).ToHaveTextAsync("Bob");
        await alice.Page.GetByTestId("search-this-chat").CheckAsync();
        await search.FillAsync("budget");
        await Expect(results).ToHaveTextAsync(["budget for the bob project"]);
        await search.FillAsync("carol");
        await Expect(alice.Page.GetByTestId("search-empty")).ToBeVisibleAsync();

        alice.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task People_search_starts_a_direct_chat_builds_a_group_and_adds_a_member()
    {
        await using var alice = await fx.NewBrowserAsync(output, "alice");
        await using var bob = await fx.NewBrowserAsync(output, "bob");
        await using var carol = await fx.NewBrowserAsync(output, "carol");
        await using var dave = await fx.NewBrowserAsync(output, "dave");
        // A display-name word no other test uses, so the server's people search finds only these.
        string tag = "Qx" + Guid.NewGuid().ToString("N")[..6];
        string aliceName = fx.UniqueName("alice"), bobName = fx.UniqueName("bob"), carolName = fx.UniqueName("carol"), daveName = fx.UniqueName("dave");
        await alice.SignUpAsync(aliceName, $"Alice {tag}");
        await bob.SignUpAsync(bobName, $"Bob {tag}");
        await carol.SignUpAsync(carolName, $"Carol {tag}");
        await dave.SignUpAsync(daveName, $"Dave {tag}");
        await Expect(alice.Page.GetByTestId("me-username")).ToHaveTextAsync("@" + aliceName); // so others can find her

        // New direct chat: part of Bob's display name, pick him with the keyboard.
        var p = alice.Page;
        await p.GetByTestId("new-chat").ClickAsync();
        var who = p.GetByTestId("new-chat-username");
        await who.PressSequentiallyAsync(tag[..5]);
        var options = p.GetByTestId("dialog-new-chat").GetByTestId("people-option");
        // Bob, Carol and Dave (not Alice herself), by username; each shows name and @username.
        await Expect(options).ToHaveCountAsync(3);
        await Expect(options.Nth(0)).ToHaveTextAsync($"Bob {tag} @{bobName}");
        await Expect(options.Nth(0)).ToHaveAttributeAsync("aria-selected", "true");
        await who.PressAsync("Enter");
        await Expect(p.GetByTestId("dialog-new-chat")).ToBeHiddenAsync();
        await Expect(p.GetByTestId("conversation-title")).ToHaveTextAsync($"Bob {tag}");

        // New group: Carol by the mouse, then Dave with ArrowDown + Enter (Carol, already listed, is not offered again).
        await p.GetByTestId("new-group").ClickAsync();
        await p.GetByTestId("new-group-name").FillAsync("Picked team");
        var members = p.GetByTestId("new-group-members");
        await members.PressSequentiallyAsync(carolName[..^2]);
        var groupOptions = p.GetByTestId("dialog-new-group").GetByTestId("people-option");
        await groupOptions.Filter(new() { HasText = "@" + carolName }).ClickAsync();
        await Expect(members).ToHaveValueAsync($"{carolName}, ");
        await members.PressSequentiallyAsync(tag[..5]);
        await Expect(groupOptions).ToHaveCountAsync(2); // Bob and Dave
        await members.PressAsync("ArrowDown");
        await Expect(groupOptions.Nth(1)).ToHaveAttributeAsync("aria-selected", "true");
        await Expect(groupOptions.Nth(1)).ToContainTextAsync("@" + daveName);
        await members.PressAsync("Enter");
        await Expect(members).ToHaveValueAsync($"{carolName}, {daveName}, ");
        await Expect(p.GetByTestId("dialog-new-group")).ToBeVisibleAsync(); // Enter picked, it did not submit
        await p.GetByTestId("new-group-submit").ClickAsync();
        await Expect(p.GetByTestId("conversation-title")).ToHaveTextAsync("Picked team");
        await Expect(ChatUser.ChatItem(carol.Page, "Picked team")).ToBeVisibleAsync();
        await Expect(ChatUser.ChatItem(dave.Page, "Picked team")).ToBeVisibleAsync();

        // Add a member: members are not offered; picking Bob adds him.
        await p.GetByTestId("group-info").ClickAsync();
        await Expect(p.GetByTestId("group-member")).ToHaveCountAsync(3);
        var add = p.GetByTestId("group-add-username");
        await add.PressSequentiallyAsync(tag[..5]);
        var addOptions = p.GetByTestId("dialog-group").GetByTestId("people-option");
        await Expect(addOptions).ToHaveCountAsync(1);
        await Expect(addOptions).ToContainTextAsync("@" + bobName);
        await add.PressAsync("Escape"); // closes the list, not the dialog
        await Expect(addOptions).ToHaveCountAsync(0);
        await Expect(p.GetByTestId("dialog-group")).ToBeVisibleAsync();
        await add.FillAsync("");
        await add.PressSequentiallyAsync(bobName[..^2]);
        await addOptions.Filter(new() { HasText = "@" + bobName }).ClickAsync();
        await Expect(p.GetByTestId("group-member")).ToHaveCountAsync(4);
        await Expect(p.GetByTestId("group-member").Filter(new() { HasText = $"Bob {tag}" })).ToHaveCountAsync(1);
        await Expect(ChatUser.ChatItem(bob.Page, "Picked team")).ToBeVisibleAsync();

        alice.AssertNoConsoleErrors();
        bob.AssertNoConsoleErrors();
    }
}
