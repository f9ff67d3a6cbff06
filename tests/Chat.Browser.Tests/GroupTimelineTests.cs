using Chat.Browser.Tests.Infrastructure;

namespace Chat.Browser.Tests;

/// <summary>
/// Group changes as centred lines in the conversation (live from <c>group_update</c>, and from
/// <c>GET /api/groups/{id}/events</c> after a reload or when scrolling up), and the members panel:
/// roles, make/remove admin, remove and leave behind an in-page confirm, the last admin's 409.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class GroupTimelineTests(BrowserFixture fx, ITestOutputHelper output)
{
    /// <summary>Messages and timeline lines of the open conversation, in page order: a message as its
    /// text, a line as "— its sentence".</summary>
    private static ILocator Timeline(IPage page) =>
        page.Locator("#message-list > [data-testid=message] [data-testid=message-text], #message-list > [data-testid=timeline-event]");

    private static ILocator Member(IPage page, string name) =>
        page.GetByTestId("group-member").Filter(new() { Has = page.GetByTestId("member-name").GetByText(name) });

    [Fact]
    public async Task Add_remove_rename_and_admin_lines_show_live_for_another_member_and_stay_in_place_after_reload()
    {
        await using var alice = await fx.NewBrowserAsync(output, "alice");
        await using var bob = await fx.NewBrowserAsync(output, "bob");
        await using var carol = await fx.NewBrowserAsync(output, "carol");
        string bobName = fx.UniqueName("bob"), carolName = fx.UniqueName("carol");
        await alice.SignUpAsync(fx.UniqueName("alice"), "Alice");
        await bob.SignUpAsync(bobName, "Bob");
        await carol.SignUpAsync(carolName, "Carol");

        await alice.CreateGroupAsync("Timeline", bobName);
        await bob.OpenChatAsync("Timeline");
        await Expect(Timeline(bob.Page)).ToHaveTextAsync(["Alice created the group “Timeline”"]);
        await Expect(bob.Page.GetByTestId("timeline-event")).ToHaveCSSAsync("justify-content", "center");

        await alice.SendAsync("first");
        await Expect(bob.Message("first")).ToBeVisibleAsync();

        // Add Carol through the panel.
        await alice.Page.GetByTestId("group-info").ClickAsync();
        await alice.Page.GetByTestId("group-add-username").FillAsync(carolName);
        await alice.Page.GetByTestId("group-add").ClickAsync();
        await Expect(alice.Page.GetByTestId("group-member")).ToHaveCountAsync(3);
        await Expect(Timeline(bob.Page)).ToHaveTextAsync(["Alice created the group “Timeline”", "first", "Alice added Carol"]);
        await alice.Page.GetByTestId("group-close").ClickAsync();

        await alice.SendAsync("second");
        await Expect(bob.Message("second")).ToBeVisibleAsync();

        // Rename, then make Bob an admin: Bob's open members panel shows his new role live.
        await bob.Page.GetByTestId("group-info").ClickAsync();
        await Expect(Member(bob.Page, "Bob").GetByTestId("member-admin")).ToHaveCountAsync(0);
        await Expect(bob.Page.GetByTestId("member-make-admin")).ToHaveCountAsync(0); // not an admin: no actions
        await alice.Page.GetByTestId("group-info").ClickAsync();
        await alice.Page.GetByTestId("group-name-input").FillAsync("Timeline 2");
        await alice.Page.GetByTestId("group-rename").ClickAsync();
        await Member(alice.Page, "Bob").GetByTestId("member-make-admin").ClickAsync();
        await Expect(Member(alice.Page, "Bob").GetByTestId("member-admin")).ToHaveTextAsync("admin");
        await Expect(Member(bob.Page, "Bob").GetByTestId("member-admin")).ToHaveTextAsync("admin");
        await Expect(Member(bob.Page, "Carol").GetByTestId("member-make-admin")).ToBeVisibleAsync(); // Bob can act now
        await bob.Page.GetByTestId("group-close").ClickAsync();

        // Remove Carol: cancelling keeps her, confirming removes her.
        await Member(alice.Page, "Carol").GetByTestId("group-remove").ClickAsync();
        await Expect(alice.Page.GetByTestId("dialog-confirm")).ToBeVisibleAsync();
        await Expect(alice.Page.GetByTestId("dialog-confirm")).ToContainTextAsync("Remove Carol?");
        await alice.Page.GetByTestId("confirm-cancel").ClickAsync();
        await Expect(alice.Page.GetByTestId("dialog-confirm")).ToBeHiddenAsync();
        await Expect(alice.Page.GetByTestId("group-member")).ToHaveCountAsync(3);
        await Expect(ChatUser.ChatItem(carol.Page, "Timeline 2")).ToBeVisibleAsync();
        await Member(alice.Page, "Carol").GetByTestId("group-remove").ClickAsync();
        await alice.Page.GetByTestId("confirm-ok").ClickAsync();
        await Expect(alice.Page.GetByTestId("group-member")).ToHaveCountAsync(2);
        await Expect(ChatUser.ChatItem(carol.Page, "Timeline 2")).ToHaveCountAsync(0);
        await alice.Page.GetByTestId("group-close").ClickAsync();

        await alice.SendAsync("third");
        string[] expected =
        [
            "Alice created the group “Timeline”", "first", "Alice added Carol", "second",
            "Alice renamed the group to “Timeline 2”", "Alice made you an admin", "Alice removed Carol", "third",
        ];
        await Expect(Timeline(bob.Page)).ToHaveTextAsync(expected);
        await Expect(Timeline(alice.Page)).ToHaveTextAsync(
        [
            "You created the group “Timeline”", "first", "You added Carol", "second",
            "You renamed the group to “Timeline 2”", "You made Bob an admin", "You removed Carol", "third",
        ]);
        await bob.ScreenshotAsync("group-timeline.png");

        // After a reload the lines come from the events endpoint, in the same places.
        await bob.Page.ReloadAsync();
        await ChatUser.WaitOnlineAsync(bob.Page);
        if (!await bob.Page.GetByTestId("conversation").IsVisibleAsync()) await bob.OpenChatAsync("Timeline 2");
        await Expect(bob.Page.GetByTestId("conversation-title")).ToHaveTextAsync("Timeline 2");
        await Expect(Timeline(bob.Page)).ToHaveTextAsync(expected);
        await Expect(bob.Page.Locator("[data-testid=timeline-event][data-action=member_removed]")).ToHaveAttributeAsync("data-after-seq", "2");

        alice.AssertNoConsoleErrors();
        bob.AssertNoConsoleErrors();
        carol.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task Promoted_member_sees_the_role_the_last_admin_cannot_step_down_and_leaving_asks_first()
    {
        await using var alice = await fx.NewBrowserAsync(output, "alice");
        await using var bob = await fx.NewBrowserAsync(output, "bob");
        string bobName = fx.UniqueName("bob");
        await alice.SignUpAsync(fx.UniqueName("alice"), "Alice");
        await bob.SignUpAsync(bobName, "Bob");
        await alice.CreateGroupAsync("Admins", bobName);
        await bob.OpenChatAsync("Admins");

        // Alice is the only admin: stepping down is refused with the server's sentence, nothing changes.
        await alice.Page.GetByTestId("group-info").ClickAsync();
        alice.ExpectNetworkErrors = true; // the browser logs the refused request (409) itself
        await Member(alice.Page, "Alice").GetByTestId("member-unadmin").ClickAsync();
        await Expect(alice.Page.GetByTestId("group-error")).ToHaveTextAsync("A group keeps at least one admin.");
        alice.ExpectNetworkErrors = false;
        await Expect(Member(alice.Page, "Alice").GetByTestId("member-admin")).ToHaveTextAsync("admin");

        // Bob becomes admin; Alice steps down; now Bob is the last admin and gets the same answer.
        await Member(alice.Page, "Bob").GetByTestId("member-make-admin").ClickAsync();
        await Expect(alice.Page.GetByTestId("group-error")).ToBeHiddenAsync();
        await Member(alice.Page, "Alice").GetByTestId("member-unadmin").ClickAsync();
        await Expect(Member(alice.Page, "Alice").GetByTestId("member-admin")).ToHaveCountAsync(0);
        await Expect(alice.Page.GetByTestId("member-make-admin")).ToHaveCountAsync(0); // no longer an admin: no actions
        await Expect(alice.Page.GetByTestId("group-remove")).ToHaveCountAsync(0);
        await Expect(alice.Page.GetByTestId("group-leave")).ToBeVisibleAsync(); // everybody may leave
        await alice.Page.GetByTestId("group-close").ClickAsync();

        await bob.Page.GetByTestId("group-info").ClickAsync();
        await Expect(Member(bob.Page, "Bob").GetByTestId("member-admin")).ToHaveTextAsync("admin");
        bob.ExpectNetworkErrors = true;
        await Member(bob.Page, "Bob").GetByTestId("member-unadmin").ClickAsync();
        await Expect(bob.Page.GetByTestId("group-error")).ToHaveTextAsync("A group keeps at least one admin.");
        bob.ExpectNetworkErrors = false;
        await Expect(Member(bob.Page, "Bob").GetByTestId("member-admin")).ToHaveTextAsync("admin");
        await bob.Page.GetByTestId("group-close").ClickAsync();

        // Alice leaves: cancel keeps her in, confirm takes her out; Bob sees "Alice left".
        await alice.Page.GetByTestId("group-info").ClickAsync();
        await alice.Page.GetByTestId("group-leave").ClickAsync();
        await alice.Page.GetByTestId("confirm-cancel").ClickAsync();
        await Expect(alice.Page.GetByTestId("dialog-group")).ToBeVisibleAsync();
        await Expect(bob.Page.GetByTestId("conversation-subtitle")).ToContainTextAsync("2 members");
        await alice.Page.GetByTestId("group-leave").ClickAsync();
        await alice.Page.GetByTestId("confirm-ok").ClickAsync();
        await Expect(alice.Page.GetByTestId("conversation")).ToBeHiddenAsync();
        await Expect(ChatUser.ChatItem(alice.Page, "Admins")).ToHaveCountAsync(0);

        string[] expected =
        [
            "Alice created the group “Admins”", "Alice made you an admin", "Alice is no longer an admin", "Alice left",
        ];
        await Expect(Timeline(bob.Page)).ToHaveTextAsync(expected);
        await bob.Page.ReloadAsync();
        await ChatUser.WaitOnlineAsync(bob.Page);
        if (!await bob.Page.GetByTestId("conversation").IsVisibleAsync()) await bob.OpenChatAsync("Admins");
        await Expect(Timeline(bob.Page)).ToHaveTextAsync(expected);

        alice.AssertNoConsoleErrors();
        bob.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task Lines_of_older_history_load_when_scrolling_up()
    {
        await using var alice = await fx.NewBrowserAsync(output, "alice");
        await using var bob = await fx.NewBrowserAsync(output, "bob");
        string bobName = fx.UniqueName("bob");
        await alice.SignUpAsync(fx.UniqueName("alice"), "Alice");
        await bob.SignUpAsync(bobName, "Bob");
        await alice.CreateGroupAsync("Long history", bobName);
        for (int i = 1; i <= 5; i++) await alice.SendAsync($"m{i}");
        await Expect(alice.Message("m5").GetByTestId("msg-status")).ToHaveAttributeAsync("data-status", "delivered"); // stored before the rename
        await alice.Page.GetByTestId("group-info").ClickAsync();
        await alice.Page.GetByTestId("group-name-input").FillAsync("Long history 2");
        await alice.Page.GetByTestId("group-rename").ClickAsync();
        await Expect(alice.Page.GetByTestId("conversation-title")).ToHaveTextAsync("Long history 2");
        await alice.Page.GetByTestId("group-close").ClickAsync();
        for (int i = 6; i <= 60; i++) await alice.SendAsync($"m{i}");
        await Expect(alice.Message("m60").GetByTestId("msg-status")).ToHaveAttributeAsync("data-status", "delivered");

        // Bob opens it in a fresh page (nothing kept from the live frames): the newest 50 messages (m11…m60),
        // and no line of that range.
        await bob.Page.ReloadAsync();
        await ChatUser.WaitOnlineAsync(bob.Page);
        await bob.OpenChatAsync("Long history 2");
        await Expect(bob.Message("m60")).ToBeVisibleAsync();
        await Expect(bob.Page.GetByTestId("timeline-event")).ToHaveCountAsync(0);

        // Scrolling up loads m1…m10 and the two lines of that range, each after its message.
        for (int i = 0; i < 10 && await bob.Message("m1").CountAsync() == 0; i++)
        {
            await bob.Page.Locator("#messages").EvaluateAsync("el => { el.scrollTop = 0; el.dispatchEvent(new Event('scroll')); }");
            await bob.Page.WaitForTimeoutAsync(300);
        }
        var texts = await Timeline(bob.Page).AllTextContentsAsync();
        Assert.Equal(
            ["Alice created the group “Long history”", "m1", "m2", "m3", "m4", "m5", "Alice renamed the group to “Long history 2”", "m6"],
            texts.Take(8));
        Assert.Equal(62, texts.Count);

        alice.AssertNoConsoleErrors();
        bob.AssertNoConsoleErrors();
    }
}
