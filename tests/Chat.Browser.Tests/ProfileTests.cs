using Chat.Browser.Tests.Infrastructure;

namespace Chat.Browser.Tests;

/// <summary>The profile and security dialog: display name, device names, password change signing other devices out.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ProfileTests(BrowserFixture fx, ITestOutputHelper output)
{
    [Fact]
    public async Task Display_name_device_rename_and_password_change_work_from_the_profile_dialog()
    {
        await using var alice = await fx.NewBrowserAsync(output, "alice");
        await using var alicePhone = await fx.NewBrowserAsync(output, "alice-phone", width: 390, height: 760);
        string aliceName = fx.UniqueName("alice");
        await alice.SignUpAsync(aliceName, "Alice");
        await alicePhone.SignInAsync(aliceName);
        var p = alice.Page;

        // Display name: saved, shown in the header, kept after a reload.
        await p.GetByTestId("devices").ClickAsync();
        await Expect(p.GetByTestId("profile-name")).ToHaveValueAsync("Alice");
        await p.GetByTestId("profile-name").FillAsync("Alice Liddell");
        await p.GetByTestId("profile-save").ClickAsync();
        await Expect(p.GetByTestId("me-name")).ToHaveTextAsync("Alice Liddell");
        await p.ReloadAsync();
        await ChatUser.WaitOnlineAsync(p);
        await Expect(p.GetByTestId("me-name")).ToHaveTextAsync("Alice Liddell");

        // Devices show their sign-in time and can be renamed.
        await p.GetByTestId("devices").ClickAsync();
        await Expect(p.GetByTestId("device")).ToHaveCountAsync(2);
        await Expect(p.GetByTestId("device").First.GetByTestId("device-meta")).ToContainTextAsync("signed in");
        p.Dialog += async (_, dialog) => await dialog.AcceptAsync("Work laptop");
        var mine = p.GetByTestId("device").Filter(new() { Has = p.GetByTestId("this-device") });
        await mine.GetByTestId("device-rename").ClickAsync();
        await Expect(mine.Locator(".device-name")).ToHaveTextAsync("Work laptop");

        // A wrong current password is refused (a 401 the browser logs) and signs nobody out.
        alice.ExpectNetworkErrors = true;
        await p.GetByTestId("pw-current").FillAsync("not-my-password");
        await p.GetByTestId("pw-new").FillAsync("brand-new-horse-2");
        await p.GetByTestId("pw-save").ClickAsync();
        await Expect(p.GetByTestId("devices-error")).ToBeVisibleAsync();
        await Expect(p.GetByTestId("main-view")).ToBeVisibleAsync();
        await Expect(p.GetByTestId("device")).ToHaveCountAsync(2);

        // The right one changes it: the phone is signed out, this device stays.
        alicePhone.ExpectNetworkErrors = true;
        await p.GetByTestId("pw-current").FillAsync("correct-horse-1");
        await p.GetByTestId("pw-new").FillAsync("brand-new-horse-2");
        await p.GetByTestId("pw-save").ClickAsync();
        await Expect(p.GetByTestId("device")).ToHaveCountAsync(1);
        await Expect(alicePhone.Page.GetByTestId("auth-view")).ToBeVisibleAsync();
        await Expect(alicePhone.Page.GetByTestId("auth-error")).ToHaveTextAsync("This device was signed out.");

        // The phone signs in again with the new password only.
        var phone = alicePhone.Page;
        await phone.GetByTestId("auth-username").FillAsync(aliceName);
        await phone.GetByTestId("auth-password").FillAsync("brand-new-horse-2");
        await phone.GetByTestId("auth-submit").ClickAsync();
        await Expect(phone.GetByTestId("main-view")).ToBeVisibleAsync();
        await Expect(phone.GetByTestId("me-name")).ToHaveTextAsync("Alice Liddell");

        alice.AssertNoConsoleErrors();
    }
}
