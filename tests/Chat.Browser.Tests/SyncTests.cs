using Chat.Browser.Tests.Infrastructure;

namespace Chat.Browser.Tests;

[Collection(BrowserCollection.Name)]
public sealed class SyncTests(BrowserFixture fx, ITestOutputHelper output)
{
    [Fact]
    public async Task Second_tab_and_second_device_stay_in_sync_and_other_devices_can_be_signed_out()
    {
        await using var alice = await fx.NewBrowserAsync(output, "alice");
        await using var bob = await fx.NewBrowserAsync(output, "bob");
        string aliceName = fx.UniqueName("alice"), bobName = fx.UniqueName("bob");
        await alice.SignUpAsync(aliceName, "Alice");
        await bob.SignUpAsync(bobName, "Bob");

        // A second tab of the same browser profile is signed in already (token per profile).
        var tab2 = await alice.OpenPageAsync();
        await ChatUser.WaitOnlineAsync(tab2);
        await Expect(tab2.GetByTestId("me-name")).ToHaveTextAsync("Alice");

        // Sent in tab 1: appears in tab 2's list and conversation.
        await alice.StartDirectChatAsync(bobName);
        await alice.SendAsync("Sent from tab one");
        await Expect(ChatUser.ChatItem(tab2, "Bob").GetByTestId("chat-preview")).ToHaveTextAsync("You: Sent from tab one");
        await alice.OpenChatAsync("Bob", tab2);
        await Expect(ChatUser.Message(tab2, "Sent from tab one")).ToHaveAttributeAsync("data-own", "true");

        // Replies reach both tabs; tab 2 goes back to the list and its badge clears when tab 1 reads.
        await tab2.Keyboard.PressAsync("Escape"); // wide layout: Escape closes the chat
        await Expect(tab2.GetByTestId("placeholder")).ToBeVisibleAsync();
        await bob.OpenChatAsync("Alice");
        await bob.SendAsync("Got it in both tabs?");
        await Expect(alice.Message("Got it in both tabs?")).ToBeVisibleAsync();
        await Expect(ChatUser.ChatItem(tab2, "Bob").GetByTestId("chat-preview")).ToHaveTextAsync("Got it in both tabs?");
        await Expect(ChatUser.ChatItem(tab2, "Bob").GetByTestId("unread-badge")).ToHaveCountAsync(0);

        // A second device (another browser profile, signing in): own messages from device 1 arrive live.
        await using var alicePhone = await fx.NewBrowserAsync(output, "alice-phone", width: 390, height: 760);
        await alicePhone.SignInAsync(aliceName);
        await alicePhone.OpenChatAsync("Bob");
        await alice.SendAsync("Typed on the laptop");
        await Expect(alicePhone.Message("Typed on the laptop")).ToHaveAttributeAsync("data-own", "true");
        await alicePhone.SendAsync("Typed on the phone");
        await Expect(alice.Message("Typed on the phone")).ToHaveAttributeAsync("data-own", "true");
        await Expect(ChatUser.Message(tab2, "Typed on the phone")).ToHaveCountAsync(0); // tab 2 shows the list
        await Expect(ChatUser.ChatItem(tab2, "Bob").GetByTestId("chat-preview")).ToHaveTextAsync("You: Typed on the phone");

        // Read on the phone clears the unread badge on the laptop (sync_read).
        await alice.Page.Keyboard.PressAsync("Escape");
        await Expect(alice.Page.GetByTestId("placeholder")).ToBeVisibleAsync();
        await bob.SendAsync("Read me on your phone");
        await Expect(ChatUser.ChatItem(alice.Page, "Bob").GetByTestId("chat-preview")).ToHaveTextAsync("Read me on your phone");
        await Expect(ChatUser.ChatItem(alice.Page, "Bob").GetByTestId("unread-badge")).ToHaveCountAsync(0);
        await Expect(alicePhone.Message("Read me on your phone")).ToBeVisibleAsync();
        await Expect(ChatUser.Status(bob.Page, "Read me on your phone")).ToHaveAttributeAsync("data-status", "read");

        // Devices: the laptop lists both and signs the phone out; the phone returns to the sign-in screen.
        alicePhone.ExpectNetworkErrors = true;
        await alice.Page.GetByTestId("devices").ClickAsync();
        await Expect(alice.Page.GetByTestId("device")).ToHaveCountAsync(2);
        await Expect(alice.Page.GetByTestId("this-device")).ToHaveCountAsync(1);
        await alice.Page.GetByTestId("sign-out-others").ClickAsync();
        await Expect(alice.Page.GetByTestId("device")).ToHaveCountAsync(1);
        await Expect(alicePhone.Page.GetByTestId("auth-view")).ToBeVisibleAsync();
        await Expect(alicePhone.Page.GetByTestId("auth-error")).ToHaveTextAsync("This device was signed out.");

        // Sign out on the laptop: every tab of the profile goes back to sign in.
        await alice.Page.Keyboard.PressAsync("Escape");
        await alice.Page.GetByTestId("sign-out").ClickAsync();
        await Expect(alice.Page.GetByTestId("auth-view")).ToBeVisibleAsync();
        await Expect(tab2.GetByTestId("auth-view")).ToBeVisibleAsync();

        alice.AssertNoConsoleErrors();
        alicePhone.AssertNoConsoleErrors();
        bob.AssertNoConsoleErrors();
    }
}
