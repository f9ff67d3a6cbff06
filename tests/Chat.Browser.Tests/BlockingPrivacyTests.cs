using Chat.Browser.Tests.Infrastructure;

namespace Chat.Browser.Tests;

/// <summary>Blocking from the conversation header and the profile dialog, and the privacy switches, seen by the other user.</summary>
[Collection(BrowserCollection.Name)]
public sealed class BlockingPrivacyTests(BrowserFixture fx, ITestOutputHelper output)
{
    [Fact]
    public async Task Blocking_hides_presence_refuses_messages_and_share_presence_off_shows_offline()
    {
        await using var alice = await fx.NewBrowserAsync(output, "alice");
        await using var bob = await fx.NewBrowserAsync(output, "bob");
        string aliceName = fx.UniqueName("alice"), bobName = fx.UniqueName("bob");
        await alice.SignUpAsync(aliceName, "Alice");
        await bob.SignUpAsync(bobName, "Bob");
        await alice.StartDirectChatAsync(bobName);
        await alice.SendAsync("Hi Bob");
        await bob.OpenChatAsync("Alice");
        var bobSees = bob.Page.GetByTestId("conversation-subtitle");
        await Expect(bobSees).ToHaveTextAsync("online");

        // Alice blocks Bob from the header, after confirming.
        var p = alice.Page;
        await Expect(p.GetByTestId("block-user")).ToHaveTextAsync("Block");
        await p.GetByTestId("block-user").ClickAsync();
        await p.GetByTestId("confirm-ok").ClickAsync();
        await Expect(p.GetByTestId("block-user")).ToHaveTextAsync("Unblock");
        await Expect(p.GetByTestId("conversation-subtitle")).ToHaveTextAsync("blocked");

        // Bob sees her offline at once and his message is refused, not delivered.
        await Expect(bobSees).ToHaveTextAsync("offline");
        bob.ExpectNetworkErrors = true;
        await bob.SendAsync("are you there?");
        await Expect(ChatUser.Status(bob.Page, "are you there?")).ToHaveAttributeAsync("data-status", "failed");
        await Expect(alice.Message("are you there?")).ToHaveCountAsync(0);

        // The profile dialog lists Bob; unblocking there shows her online to him again.
        await p.GetByTestId("devices").ClickAsync();
        var blocked = p.GetByTestId("blocked-user");
        await Expect(blocked).ToHaveCountAsync(1);
        await Expect(blocked).ToContainTextAsync("Bob");
        await blocked.GetByTestId("unblock").ClickAsync();
        await Expect(p.GetByTestId("block-list")).ToContainTextAsync("Nobody.");
        await Expect(bobSees).ToHaveTextAsync("online");

        // Sharing presence off: Bob sees offline; on again: online. The switch keeps its state after a reload.
        var share = p.GetByTestId("privacy-presence");
        await Expect(share).ToBeCheckedAsync();
        await share.UncheckAsync();
        await Expect(bobSees).ToHaveTextAsync("offline");
        await p.ReloadAsync();
        await ChatUser.WaitOnlineAsync(p);
        await p.GetByTestId("devices").ClickAsync();
        await Expect(p.GetByTestId("privacy-presence")).Not.ToBeCheckedAsync();
        await Expect(bobSees).ToHaveTextAsync("offline"); // reconnecting did not reveal her
        await p.GetByTestId("privacy-presence").CheckAsync();
        await Expect(bobSees).ToHaveTextAsync("online");

        alice.AssertNoConsoleErrors();
    }
}
