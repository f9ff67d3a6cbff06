using Chat.Browser.Tests.Infrastructure;

namespace Chat.Browser.Tests;

/// <summary>The web client under its own Content-Security-Policy (issue 17): the policy is enforced, and the app works inside it.</summary>
[Collection(BrowserCollection.Name)]
public sealed class SecurityHeaderTests(BrowserFixture fx, ITestOutputHelper output)
{
    [Fact]
    public async Task The_page_works_under_its_own_policy_and_the_policy_blocks_inline_script()
    {
        await using var alice = await fx.NewBrowserAsync(output, "alice");
        await using var bob = await fx.NewBrowserAsync(output, "bob");
        // Count every violation the page reports from here on (a reload installs the listener before the app runs).
        await alice.Context.AddInitScriptAsync(
            "window.__csp = []; document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));");
        var response = await alice.Page.ReloadAsync();

        var headers = await response!.AllHeadersAsync();
        string csp = headers["content-security-policy"];
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-eval", csp, StringComparison.Ordinal);
        Assert.Equal("no-referrer", headers["referrer-policy"]);
        Assert.Equal("nosniff", headers["x-content-type-options"]);

        // Sign up, chat both ways with an image attachment: socket, REST, uploads and thumbnails all inside the policy.
        string bobName = fx.UniqueName("bob");
        await alice.SignUpAsync(fx.UniqueName("alice"), "Alice");
        await bob.SignUpAsync(bobName, "Bob");
        await alice.StartDirectChatAsync(bobName);
        await alice.SendAsync("Under the policy");
        await bob.OpenChatAsync("Alice");
        await Expect(bob.Message("Under the policy")).ToBeVisibleAsync();
        await bob.Page.GetByTestId("file-input").SetInputFilesAsync(new FilePayload
        {
            Name = "dot.png",
            MimeType = "image/png",
            Buffer = TestImages.GradientPng(64, 64),
        });
        var aliceImage = alice.Page.GetByTestId("attachment-image");
        await Expect(aliceImage).ToHaveJSPropertyAsync("complete", true);
        Assert.True(await aliceImage.EvaluateAsync<int>("img => img.naturalWidth") > 0, "thumbnail did not load under the policy");
        Assert.Empty(await alice.Page.EvaluateAsync<string[]>("() => window.__csp"));
        alice.AssertNoConsoleErrors();
        bob.AssertNoConsoleErrors();

        // The policy is really enforced: an injected inline script does not run, and the browser reports it.
        await alice.Page.EvaluateAsync("""
            () => { const s = document.createElement('script'); s.textContent = 'window.__injected = true'; document.body.append(s); }
            """);
        Assert.False(await alice.Page.EvaluateAsync<bool>("() => window.__injected === true"));
        await alice.Page.WaitForFunctionAsync("() => window.__csp.some(v => v.startsWith('script-src'))");
        // The refusal is logged as a console error, on purpose; nothing else is.
        Assert.All(alice.ConsoleErrors, e => Assert.Contains("Content Security Policy", e, StringComparison.Ordinal));
    }
}
