using Chat.Browser.Tests.Infrastructure;
using Chat.Core.Domain;
using Chat.Core.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Chat.Browser.Tests;

/// <summary>
/// The sign-up form follows the server's registration mode (issue 17): an invite field when it is invite-only, filled
/// from an invite link (<c>?invite=CODE</c>), and a note instead of a working button when registration is closed.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class RegistrationModeTests(BrowserFixture fx, ITestOutputHelper output)
{
    [Fact]
    public async Task An_invite_link_fills_the_invite_field_and_signs_up_while_a_missing_or_wrong_code_is_refused()
    {
        string dataDir = Path.Combine(fx.DataDir, "invite-" + Guid.NewGuid().ToString("N"));
        var (server, address) = BrowserFixture.StartServer(dataDir, ("Chat:Auth:Registration", "invite"));
        await using var _ = server;
        // The invite an admin would make (the admin API is covered by K8RegistrationModeTests): only its hash is stored.
        string code = Ids.Base64Url(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await server.Services.GetRequiredService<IUserStore>().CreateInviteAsync(
            new InviteRecord(Ids.NewId(), Ids.HashToken(code), "admin", now, now + 3_600_000, 1, 0), CancellationToken.None);

        await using var stranger = await fx.NewBrowserAsync(output, "stranger", server: address);
        var s = stranger.Page;
        await s.GetByTestId("tab-register").ClickAsync();
        await Expect(s.GetByTestId("auth-invite")).ToBeVisibleAsync();
        await Expect(s.GetByTestId("registration-closed")).ToBeHiddenAsync();
        await s.GetByTestId("auth-username").FillAsync(fx.UniqueName("stranger"));
        await s.GetByTestId("auth-password").FillAsync("correct-horse-1");
        await s.GetByTestId("auth-submit").ClickAsync();
        await Expect(s.GetByTestId("auth-error")).ToHaveTextAsync("Registration needs an invite code.");
        stranger.ExpectNetworkErrors = true; // the 403 below
        await s.GetByTestId("auth-invite").FillAsync("AAAAAAAAAAAAAAAAAAAAAA");
        await s.GetByTestId("auth-submit").ClickAsync();
        await Expect(s.GetByTestId("auth-error")).ToHaveTextAsync("This invite is not valid.");
        await Expect(s.GetByTestId("auth-view")).ToBeVisibleAsync();

        await using var invited = await fx.NewBrowserAsync(output, "invited", server: address);
        var p = invited.Page;
        await p.GotoAsync("/?invite=" + code);
        await Expect(p.GetByTestId("tab-register")).ToHaveAttributeAsync("aria-selected", "true");
        await Expect(p.GetByTestId("auth-invite")).ToHaveValueAsync(code);
        await p.GetByTestId("auth-username").FillAsync(fx.UniqueName("invited"));
        await p.GetByTestId("auth-display-name").FillAsync("Invited");
        await p.GetByTestId("auth-password").FillAsync("correct-horse-1");
        await p.GetByTestId("auth-submit").ClickAsync();
        await Expect(p.GetByTestId("me-name")).ToHaveTextAsync("Invited");
        Assert.DoesNotContain("invite", p.Url, StringComparison.Ordinal); // the spent code leaves the address bar
        invited.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task Closed_registration_shows_a_note_and_no_working_sign_up_while_sign_in_stays()
    {
        string dataDir = Path.Combine(fx.DataDir, "closed-" + Guid.NewGuid().ToString("N"));
        var (server, address) = BrowserFixture.StartServer(dataDir, ("Chat:Auth:Registration", "closed"));
        await using var _ = server;
        await using var visitor = await fx.NewBrowserAsync(output, "visitor", server: address);
        var p = visitor.Page;
        await p.GetByTestId("tab-register").ClickAsync();
        await Expect(p.GetByTestId("registration-closed")).ToHaveTextAsync("Registration is closed on this server.");
        await Expect(p.GetByTestId("auth-invite")).ToBeHiddenAsync();
        await Expect(p.GetByTestId("auth-submit")).ToBeDisabledAsync();
        await p.GetByTestId("tab-login").ClickAsync();
        await Expect(p.GetByTestId("registration-closed")).ToBeHiddenAsync();
        await Expect(p.GetByTestId("auth-submit")).ToBeEnabledAsync();
        visitor.AssertNoConsoleErrors();
    }
}
