using System.Text.RegularExpressions;
using Chat.Browser.Tests.Infrastructure;

namespace Chat.Browser.Tests;

/// <summary>
/// Rich messages in the web client (PROTOCOL.md v1.1): the actions bar (reply, react, edit, delete, copy),
/// "edited" and tombstones, quoted replies, reaction chips, @ autocomplete and mentions, links and markdown,
/// and catching up on changes after being offline. Two users, and a second device of one of them.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class RichMessageTests(BrowserFixture fx, ITestOutputHelper output)
{
    [Fact]
    public async Task Edit_is_seen_live_by_the_other_user_and_the_second_device_and_delete_with_confirm_leaves_a_tombstone_everywhere()
    {
        await using var alice = await fx.NewBrowserAsync(output, "alice");
        await using var bob = await fx.NewBrowserAsync(output, "bob");
        string aliceName = fx.UniqueName("alice"), bobName = fx.UniqueName("bob");
        await alice.SignUpAsync(aliceName, "Alice");
        await bob.SignUpAsync(bobName, "Bob");
        await alice.StartDirectChatAsync(bobName);
        await alice.SendAsync("Lunch at noon?");
        await alice.SendAsync("Bring the slides");
        await bob.OpenChatAsync("Alice");
        await Expect(bob.Message("Bring the slides")).ToBeVisibleAsync();

        await using var alicePhone = await fx.NewBrowserAsync(output, "alice-phone", width: 390, height: 760);
        await alicePhone.SignInAsync(aliceName);
        await alicePhone.OpenChatAsync("Bob");
        await Expect(alicePhone.Message("Lunch at noon?")).ToBeVisibleAsync();

        // Someone else's message offers reply, react and copy, but neither edit nor delete (a direct chat has no admins).
        var onBob = bob.Message("Lunch at noon?");
        await onBob.HoverAsync();
        await Expect(onBob.GetByTestId("action-reply")).ToBeVisibleAsync();
        await Expect(onBob.GetByTestId("action-react")).ToBeVisibleAsync();
        await Expect(onBob.GetByTestId("action-copy")).ToBeVisibleAsync();
        await Expect(onBob.GetByTestId("action-edit")).ToHaveCountAsync(0);
        await Expect(onBob.GetByTestId("action-delete")).ToHaveCountAsync(0);

        // Alice edits from the hover bar: the composer holds the text, Enter sends the edit.
        string messageId = (await alice.Message("Lunch at noon?").GetAttributeAsync("data-message-id"))!;
        await ActAsync(alice.Message("Lunch at noon?"), "action-edit");
        await Expect(alice.Page.GetByTestId("composer-context-label")).ToHaveTextAsync("Edit message");
        var input = alice.Page.GetByTestId("message-input");
        await Expect(input).ToHaveValueAsync("Lunch at noon?");
        await input.FillAsync("Lunch at 1pm?");
        await input.PressAsync("Enter");
        await Expect(alice.Page.GetByTestId("composer-context")).ToBeHiddenAsync();
        await Expect(input).ToHaveValueAsync("");

        // Seen live by Bob and by Alice's phone, with the "edited" label, in the same place (no new message).
        foreach (var page in new[] { alice.Page, bob.Page, alicePhone.Page })
        {
            var edited = MessageById(page, messageId);
            await Expect(edited.GetByTestId("message-text")).ToHaveTextAsync("Lunch at 1pm?");
            await Expect(edited.GetByTestId("edited-label")).ToHaveTextAsync("edited");
            await Expect(ChatUser.Message(page, "Lunch at noon?")).ToHaveCountAsync(0);
            await Expect(page.GetByTestId("message")).ToHaveCountAsync(2);
        }

        // Delete asks first; Cancel keeps the message.
        string slidesId = (await alice.Message("Bring the slides").GetAttributeAsync("data-message-id"))!;
        await ActAsync(alice.Message("Bring the slides"), "action-delete");
        await Expect(alice.Page.GetByTestId("dialog-delete")).ToBeVisibleAsync();
        await alice.Page.GetByTestId("delete-cancel").ClickAsync();
        await Expect(alice.Page.GetByTestId("dialog-delete")).ToBeHiddenAsync();
        await Expect(alice.Message("Bring the slides")).ToBeVisibleAsync();
        await Expect(bob.Message("Bring the slides")).ToBeVisibleAsync();

        // Confirmed: a tombstone on every device, no text, no actions; Bob's chat list says so too.
        await ActAsync(alice.Message("Bring the slides"), "action-delete");
        await alice.Page.GetByTestId("delete-confirm").ClickAsync();
        foreach (var page in new[] { alice.Page, bob.Page, alicePhone.Page })
        {
            var gone = MessageById(page, slidesId);
            await Expect(gone.GetByTestId("message-deleted")).ToHaveTextAsync("This message was deleted");
            await Expect(gone).ToHaveAttributeAsync("data-deleted", "true");
            await Expect(gone.GetByTestId("message-text")).ToHaveCountAsync(0);
            await Expect(gone.GetByTestId("message-actions")).ToHaveCountAsync(0);
            await Expect(ChatUser.Message(page, "Bring the slides")).ToHaveCountAsync(0);
        }
        await Expect(ChatUser.ChatItem(bob.Page, "Alice").GetByTestId("chat-preview")).ToHaveTextAsync("This message was deleted");

        // And after a reload (history has the current state).
        await bob.Page.ReloadAsync();
        await ChatUser.WaitOnlineAsync(bob.Page);
        await Expect(MessageById(bob.Page, messageId).GetByTestId("edited-label")).ToBeVisibleAsync();
        await Expect(MessageById(bob.Page, slidesId).GetByTestId("message-deleted")).ToBeVisibleAsync();

        alice.AssertNoConsoleErrors();
        alicePhone.AssertNoConsoleErrors();
        bob.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task A_group_admin_may_delete_a_members_message()
    {
        await using var alice = await fx.NewBrowserAsync(output, "alice");
        await using var bob = await fx.NewBrowserAsync(output, "bob");
        string bobName = fx.UniqueName("bob");
        await alice.SignUpAsync(fx.UniqueName("alice"), "Alice");
        await bob.SignUpAsync(bobName, "Bob");
        await alice.CreateGroupAsync("Moderated", bobName);
        await alice.SendAsync("Rules: be nice");
        await bob.OpenChatAsync("Moderated");
        await bob.SendAsync("Buy cheap watches here");

        // Bob (a member) may not delete Alice's message; Alice (the admin) may delete Bob's, not edit it.
        var aliceMsgOnBob = bob.Message("Rules: be nice");
        await aliceMsgOnBob.HoverAsync();
        await Expect(aliceMsgOnBob.GetByTestId("action-reply")).ToBeVisibleAsync();
        await Expect(aliceMsgOnBob.GetByTestId("action-delete")).ToHaveCountAsync(0);
        var spam = alice.Message("Buy cheap watches here");
        await spam.HoverAsync();
        await Expect(spam.GetByTestId("action-edit")).ToHaveCountAsync(0);
        string spamId = (await spam.GetAttributeAsync("data-message-id"))!;
        await ActAsync(spam, "action-delete");
        await alice.Page.GetByTestId("delete-confirm").ClickAsync();
        await Expect(MessageById(bob.Page, spamId).GetByTestId("message-deleted")).ToBeVisibleAsync();
        await Expect(MessageById(alice.Page, spamId).GetByTestId("message-deleted")).ToBeVisibleAsync();

        alice.AssertNoConsoleErrors();
        bob.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task A_quoted_reply_shows_the_original_and_jumps_to_it_loading_older_history()
    {
        await using var alice = await fx.NewBrowserAsync(output, "alice");
        await using var bob = await fx.NewBrowserAsync(output, "bob");
        string bobName = fx.UniqueName("bob");
        await alice.SignUpAsync(fx.UniqueName("alice"), "Alice");
        await bob.SignUpAsync(bobName, "Bob");
        await alice.StartDirectChatAsync(bobName);
        await alice.SendAsync("Which train do we take?");
        await alice.Page.EvaluateAsync(@"() => {
            const input = document.querySelector('[data-testid=message-input]');
            const form = document.querySelector('[data-testid=composer]');
            for (let i = 1; i <= 60; i++) { input.value = 'filler ' + i; form.requestSubmit(); }
        }");
        await Expect(alice.Page.Locator("[data-testid=message][data-pending]")).ToHaveCountAsync(0, new() { Timeout = 20_000 });

        // Alice replies to her first message (loaded on her side: she sent everything here).
        await ActAsync(alice.Message("Which train do we take?"), "action-reply");
        await Expect(alice.Page.GetByTestId("composer-context-label")).ToHaveTextAsync("Reply to yourself");
        await alice.SendAsync("The 8:15, I checked");
        var reply = alice.Message("The 8:15, I checked");
        await Expect(reply.GetByTestId("reply-quote-text")).ToHaveTextAsync("Which train do we take?");
        await Expect(reply).Not.ToHaveAttributeAsync("data-pending", new Regex(".*"));

        // Bob opens the chat: the newest 50 only, so the original is not loaded; the quote still shows it.
        await bob.OpenChatAsync("Alice");
        var bobsReply = bob.Message("The 8:15, I checked");
        await Expect(bobsReply.GetByTestId("reply-quote-text")).ToHaveTextAsync("Which train do we take?");
        await Expect(bob.Message("Which train do we take?")).ToHaveCountAsync(0);

        // Clicking the quote loads history back to the original, scrolls to it and highlights it.
        await bobsReply.GetByTestId("reply-quote").ClickAsync();
        var original = bob.Message("Which train do we take?");
        await Expect(original).ToBeInViewportAsync();
        await Expect(original).ToHaveAttributeAsync("data-highlighted", "true");
        await Expect(bob.Page.GetByTestId("message")).ToHaveCountAsync(62);

        // The quote follows the original: edited, then deleted.
        await ActAsync(alice.Message("Which train do we take?"), "action-edit");
        await alice.Page.GetByTestId("message-input").FillAsync("Which train do we take on Friday?");
        await alice.Page.GetByTestId("message-input").PressAsync("Enter");
        await Expect(bobsReply.GetByTestId("reply-quote-text")).ToHaveTextAsync("Which train do we take on Friday?");
        await ActAsync(alice.Message("Which train do we take on Friday?"), "action-delete");
        await alice.Page.GetByTestId("delete-confirm").ClickAsync();
        await Expect(bobsReply.GetByTestId("reply-quote-text")).ToHaveTextAsync("This message was deleted");
        await Expect(reply.GetByTestId("reply-quote-text")).ToHaveTextAsync("This message was deleted");

        alice.AssertNoConsoleErrors();
        bob.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task Reaction_chips_count_name_who_reacted_and_toggle_on_click()
    {
        await using var alice = await fx.NewBrowserAsync(output, "alice");
        await using var bob = await fx.NewBrowserAsync(output, "bob");
        string bobName = fx.UniqueName("bob");
        await alice.SignUpAsync(fx.UniqueName("alice"), "Alice");
        await bob.SignUpAsync(bobName, "Bob");
        await alice.StartDirectChatAsync(bobName);
        await alice.SendAsync("Pizza tonight?");
        await bob.OpenChatAsync("Alice");

        // Bob reacts with the picker.
        var picker = await OpenPickerAsync(bob.Page, bob.Message("Pizza tonight?"));
        await picker.Locator("[data-emoji='👍']").ClickAsync();
        await Expect(picker).ToHaveCountAsync(0);

        var aliceThumb = alice.Message("Pizza tonight?").Locator("[data-testid=reaction][data-emoji='👍']");
        var bobThumb = bob.Message("Pizza tonight?").Locator("[data-testid=reaction][data-emoji='👍']");
        await Expect(aliceThumb).ToHaveTextAsync("👍1");
        await Expect(aliceThumb).ToHaveAttributeAsync("title", "Bob");
        await Expect(aliceThumb).ToHaveAttributeAsync("aria-pressed", "false");
        await Expect(bobThumb).ToHaveAttributeAsync("title", "you");
        await Expect(bobThumb).ToHaveAttributeAsync("aria-pressed", "true");

        // Alice clicks the chip: her reaction joins; clicking again takes it back.
        await aliceThumb.ClickAsync();
        await Expect(aliceThumb).ToHaveAttributeAsync("data-count", "2");
        await Expect(aliceThumb).ToHaveAttributeAsync("title", "Bob and you");
        await Expect(bobThumb).ToHaveAttributeAsync("title", "Alice and you");
        await aliceThumb.ClickAsync();
        await Expect(aliceThumb).ToHaveAttributeAsync("data-count", "1");
        await Expect(bobThumb).ToHaveAttributeAsync("title", "you");

        // A second emoji comes after the first (ordered by first reaction); Bob's last reaction removed: chip gone.
        await (await OpenPickerAsync(alice.Page, alice.Message("Pizza tonight?"))).Locator("[data-emoji='🎉']").ClickAsync();
        var chips = bob.Message("Pizza tonight?").GetByTestId("reaction");
        await Expect(chips).ToHaveCountAsync(2);
        Assert.Equal(new[] { "👍", "🎉" }, await chips.EvaluateAllAsync<string[]>("els => els.map(e => e.dataset.emoji)"));
        await bobThumb.ClickAsync();
        await Expect(aliceThumb).ToHaveCountAsync(0);
        await Expect(alice.Message("Pizza tonight?").GetByTestId("reaction")).ToHaveCountAsync(1);
        await alice.ScreenshotAsync("rich-messages.png");

        alice.AssertNoConsoleErrors();
        bob.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task At_autocomplete_inserts_a_member_and_a_mention_of_you_stands_out()
    {
        await using var alice = await fx.NewBrowserAsync(output, "alice");
        await using var bob = await fx.NewBrowserAsync(output, "bob");
        string bobName = fx.UniqueName("bob");
        await alice.SignUpAsync(fx.UniqueName("alice"), "Alice");
        await bob.SignUpAsync(bobName, "Bob Builder");
        await alice.CreateGroupAsync("Site crew", bobName);
        await Expect(alice.Page.GetByTestId("conversation-subtitle")).ToContainTextAsync("Bob Builder");

        // "@" and the first letters of the username: Bob is suggested; Enter inserts "@username ".
        var input = alice.Page.GetByTestId("message-input");
        await input.PressSequentiallyAsync("Can you fix it @" + bobName[..3]);
        var suggestion = alice.Page.GetByTestId("mention-option");
        await Expect(suggestion).ToHaveCountAsync(1);
        await Expect(suggestion).ToHaveAttributeAsync("data-username", bobName);
        await Expect(suggestion).ToContainTextAsync("Bob Builder");
        await input.PressAsync("Enter");
        await Expect(input).ToHaveValueAsync($"Can you fix it @{bobName} ");
        await Expect(alice.Page.GetByTestId("mention-suggestions")).ToBeHiddenAsync();

        // By display name too, picked with the mouse.
        await input.PressSequentiallyAsync("and @buil");
        await alice.Page.GetByTestId("mention-option").ClickAsync();
        await Expect(input).ToHaveValueAsync($"Can you fix it @{bobName} and @{bobName} ");
        await input.FillAsync($"Can you fix it @{bobName}?");
        await input.PressAsync("Enter");

        // Bob is not in the chat: the list marks the unread mention; in the chat "@bob" stands out.
        await Expect(ChatUser.ChatItem(bob.Page, "Site crew").GetByTestId("mention-badge")).ToBeVisibleAsync();
        await bob.OpenChatAsync("Site crew");
        var msg = bob.Message($"Can you fix it @{bobName}?");
        await Expect(msg.GetByTestId("mention")).ToHaveAttributeAsync("data-me", "true");
        await Expect(msg.GetByTestId("mention")).ToHaveTextAsync("@" + bobName);
        await Expect(msg).ToHaveClassAsync(new Regex(@"\bmentions-me\b"));
        await Expect(ChatUser.ChatItem(bob.Page, "Site crew").GetByTestId("mention-badge")).ToHaveCountAsync(0);
        // On Alice's side it is a mention of someone else, not of her.
        await Expect(alice.Message($"Can you fix it @{bobName}?").GetByTestId("mention")).Not.ToHaveAttributeAsync("data-me", "true");

        alice.AssertNoConsoleErrors();
        bob.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task Links_are_safe_anchors_markdown_renders_and_html_stays_text()
    {
        await using var alice = await fx.NewBrowserAsync(output, "alice");
        await using var bob = await fx.NewBrowserAsync(output, "bob");
        string bobName = fx.UniqueName("bob");
        await alice.SignUpAsync(fx.UniqueName("alice"), "Alice");
        await bob.SignUpAsync(bobName, "Bob");
        await alice.StartDirectChatAsync(bobName);
        await alice.SendAsync("Docs: https://example.com/guide?x=1#top. Not this: javascript:alert(1) nor data:text/html,hi");
        await bob.OpenChatAsync("Alice");
        var links = bob.Page.GetByTestId("message").Last.GetByTestId("message-link");
        await Expect(links).ToHaveCountAsync(1);
        await Expect(links).ToHaveAttributeAsync("href", "https://example.com/guide?x=1#top");
        await Expect(links).ToHaveAttributeAsync("rel", "noopener noreferrer");
        await Expect(links).ToHaveAttributeAsync("target", "_blank");
        await Expect(links).ToHaveTextAsync("https://example.com/guide?x=1#top");
        await Expect(bob.Page.Locator("[data-testid=message-list] a[href^='javascript'], [data-testid=message-list] a[href^='data']")).ToHaveCountAsync(0);

        await alice.SendAsync("This is **bold**, *italic*, _also italic_ and `inline <b>code</b>`; snake_case_stays");
        var md = bob.Page.GetByTestId("message").Last.GetByTestId("message-text");
        await Expect(md.Locator("strong")).ToHaveTextAsync("bold");
        await Expect(md.Locator("em")).ToHaveTextAsync(new[] { "italic", "also italic" });
        await Expect(md.Locator("code")).ToHaveTextAsync("inline <b>code</b>");
        await Expect(md.Locator("b")).ToHaveCountAsync(0);
        await Expect(md).ToHaveTextAsync("This is bold, italic, also italic and inline <b>code</b>; snake_case_stays");

        await alice.SendAsync("```js\nconst a = '<script>window.pwned = 1</script>';\n**not bold**\n```");
        var block = bob.Page.GetByTestId("message").Last.Locator("pre code");
        await Expect(block).ToHaveTextAsync("const a = '<script>window.pwned = 1</script>';\n**not bold**");
        await Expect(block).ToHaveAttributeAsync("data-lang", "js");
        await Expect(bob.Page.GetByTestId("message").Last.Locator("strong")).ToHaveCountAsync(0);

        await alice.SendAsync("<script>window.pwned = 1</script><img src=x onerror=\"window.pwned = 2\"> **<i>x</i>**");
        var raw = bob.Page.GetByTestId("message").Last.GetByTestId("message-text");
        await Expect(raw).ToHaveTextAsync("<script>window.pwned = 1</script><img src=x onerror=\"window.pwned = 2\"> <i>x</i>");
        await Expect(bob.Page.Locator("[data-testid=message-list] script, [data-testid=message-list] img, [data-testid=message-list] i")).ToHaveCountAsync(0);
        Assert.True(await bob.Page.EvaluateAsync<bool>("() => window.pwned === undefined"));
        Assert.True(await alice.Page.EvaluateAsync<bool>("() => window.pwned === undefined"));

        alice.AssertNoConsoleErrors();
        bob.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task A_device_offline_during_an_edit_a_delete_and_a_reaction_converges_after_reconnect()
    {
        await using var alice = await fx.NewBrowserAsync(output, "alice");
        await using var bob = await fx.NewBrowserAsync(output, "bob");
        string aliceName = fx.UniqueName("alice"), bobName = fx.UniqueName("bob");
        await alice.SignUpAsync(aliceName, "Alice");
        await bob.SignUpAsync(bobName, "Bob");
        await alice.StartDirectChatAsync(bobName);
        await alice.SendAsync("Meet at the station");
        await alice.SendAsync("Bring an umbrella");
        await alice.SendAsync("Tickets are booked");

        await using var alicePhone = await fx.NewBrowserAsync(output, "alice-phone", width: 390, height: 760);
        await alicePhone.SignInAsync(aliceName);
        await alicePhone.OpenChatAsync("Bob");
        await Expect(alicePhone.Message("Tickets are booked")).ToBeVisibleAsync();
        string umbrellaId = (await alicePhone.Message("Bring an umbrella").GetAttributeAsync("data-message-id"))!;
        string ticketsId = (await alicePhone.Message("Tickets are booked").GetAttributeAsync("data-message-id"))!;

        // The phone goes offline; meanwhile Alice edits and deletes on the laptop, Bob reacts.
        alicePhone.ExpectNetworkErrors = true;
        await alicePhone.Context.SetOfflineAsync(true);
        await Expect(alicePhone.Page.GetByTestId("connection-status")).ToHaveAttributeAsync("data-state", "connecting");

        await ActAsync(alice.Message("Meet at the station"), "action-edit");
        await alice.Page.GetByTestId("message-input").FillAsync("Meet at the north entrance");
        await alice.Page.GetByTestId("message-input").PressAsync("Enter");
        await ActAsync(alice.Message("Bring an umbrella"), "action-delete");
        await alice.Page.GetByTestId("delete-confirm").ClickAsync();
        await bob.OpenChatAsync("Alice");
        await ActAsync(bob.Message("Tickets are booked"), "action-react");
        await bob.Page.GetByTestId("emoji-picker").Locator("[data-emoji='🎉']").ClickAsync();
        await Expect(alice.Message("Tickets are booked").GetByTestId("reaction")).ToHaveAttributeAsync("data-count", "1");
        await Expect(MessageById(alice.Page, umbrellaId).GetByTestId("message-deleted")).ToBeVisibleAsync();

        // Still offline: the phone shows the old state.
        await Expect(alicePhone.Message("Meet at the station")).ToBeVisibleAsync();
        await Expect(alicePhone.Message("Bring an umbrella")).ToBeVisibleAsync();

        // Back online: the chat list's rev is ahead, the changes are fetched, and the phone converges.
        await alicePhone.Context.SetOfflineAsync(false);
        await ChatUser.WaitOnlineAsync(alicePhone.Page, 20_000);
        alicePhone.ExpectNetworkErrors = false;
        await Expect(alicePhone.Message("Meet at the north entrance").GetByTestId("edited-label")).ToBeVisibleAsync();
        await Expect(alicePhone.Message("Meet at the station")).ToHaveCountAsync(0);
        await Expect(MessageById(alicePhone.Page, umbrellaId).GetByTestId("message-deleted")).ToBeVisibleAsync();
        var tada = MessageById(alicePhone.Page, ticketsId).Locator("[data-testid=reaction][data-emoji='🎉']");
        await Expect(tada).ToHaveAttributeAsync("data-count", "1");
        await Expect(tada).ToHaveAttributeAsync("title", "Bob");
        Assert.Equal(3, await alicePhone.Page.GetByTestId("message").CountAsync());

        alice.AssertNoConsoleErrors();
        alicePhone.AssertNoConsoleErrors();
        bob.AssertNoConsoleErrors();
    }

    /// <summary>Hovers a message (the actions bar shows on hover) and clicks one of its actions.</summary>
    private static async Task ActAsync(ILocator message, string action)
    {
        await message.HoverAsync();
        await message.GetByTestId(action).ClickAsync();
    }

    /// <summary>
    /// Opens the emoji picker of a message. The chat that was just opened may still move under the pointer (the unread
    /// divider is placed in the next frame, history replaces the first render), so a click can land beside the React
    /// button (seen once in CI: no picker within 15 s); a missed click is tried again, at most three times.
    /// </summary>
    private static async Task<ILocator> OpenPickerAsync(IPage page, ILocator message)
    {
        var picker = page.GetByTestId("emoji-picker");
        for (int attempt = 1; ; attempt++)
        {
            await ActAsync(message, "action-react");
            try
            {
                await Expect(picker).ToBeVisibleAsync(new() { Timeout = 5_000 });
                return picker;
            }
            catch (PlaywrightException) when (attempt < 3)
            {
            }
        }
    }

    private static ILocator MessageById(IPage page, string messageId) =>
        page.Locator($"[data-testid=message][data-message-id='{messageId}']");
}
