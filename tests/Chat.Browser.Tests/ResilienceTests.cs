using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Chat.Browser.Tests.Infrastructure;

namespace Chat.Browser.Tests;

[Collection(BrowserCollection.Name)]
public sealed class ResilienceTests(BrowserFixture fx, ITestOutputHelper output)
{
    [Fact]
    public async Task Going_offline_and_back_loses_nothing_duplicates_nothing_and_sends_the_queued_message()
    {
        await using var alice = await fx.NewBrowserAsync(output, "alice");
        await using var bob = await fx.NewBrowserAsync(output, "bob");
        // Every socket Bob's page opens (first, reconnect, after reload): its URL and the frames it sent.
        var sockets = new ConcurrentQueue<(string Url, ConcurrentQueue<string> Sent)>();
        bob.Page.WebSocket += (_, ws) =>
        {
            var sent = new ConcurrentQueue<string>();
            sockets.Enqueue((ws.Url, sent));
            ws.FrameSent += (_, frame) => { if (frame.Text is { } text) sent.Enqueue(text); };
        };
        string bobName = fx.UniqueName("bob");
        await alice.SignUpAsync(fx.UniqueName("alice"), "Alice");
        await bob.SignUpAsync(bobName, "Bob");
        await alice.StartDirectChatAsync(bobName);
        await alice.SendAsync("Are you there?");
        await bob.OpenChatAsync("Alice");
        await Expect(bob.Message("Are you there?")).ToBeVisibleAsync();

        // Bob loses the network: a visible "connecting…" state.
        bob.ExpectNetworkErrors = true;
        await bob.Context.SetOfflineAsync(true);
        await Expect(bob.Page.GetByTestId("connection-status")).ToHaveAttributeAsync("data-state", "connecting");
        await Expect(bob.Page.GetByTestId("connection-status")).ToBeVisibleAsync();

        // Meanwhile Alice writes, and Bob writes too: his message waits, pending, in the outbox.
        await alice.SendAsync("I'll be 10 minutes late");
        await alice.SendAsync("Order for me please 🍕");
        await bob.SendAsync("Sorry, train wifi is flaky");
        var pending = bob.Message("Sorry, train wifi is flaky");
        await Expect(pending).ToHaveAttributeAsync("data-pending", "sending");
        await Expect(pending.GetByTestId("msg-status")).ToHaveAttributeAsync("aria-label", "Sending");
        string outbox = await bob.Page.EvaluateAsync<string>(
            "() => Object.keys(localStorage).filter(k => k.startsWith('chat.outbox')).map(k => localStorage.getItem(k)).join('')");
        Assert.Contains("Sorry, train wifi is flaky", outbox, StringComparison.Ordinal);
        await bob.Page.WaitForTimeoutAsync(1500); // a couple of failed reconnect attempts

        // Back online: reconnect, catch up, flush the outbox.
        await bob.Context.SetOfflineAsync(false);
        await ChatUser.WaitOnlineAsync(bob.Page, 20_000);
        bob.ExpectNetworkErrors = false;
        await Expect(bob.Message("I'll be 10 minutes late")).ToHaveCountAsync(1);
        await Expect(bob.Message("Order for me please 🍕")).ToHaveCountAsync(1);
        await Expect(pending).Not.ToHaveAttributeAsync("data-pending", new Regex(".*"));
        await Expect(pending.GetByTestId("msg-status")).ToHaveAttributeAsync("data-status", "read");
        await Expect(alice.Message("Sorry, train wifi is flaky")).ToHaveCountAsync(1);

        // Exactly the four messages, in order, on both sides, also after a reload (history).
        string[] expected = ["Are you there?", "I'll be 10 minutes late", "Order for me please 🍕", "Sorry, train wifi is flaky"];
        Assert.Equal(expected, await bob.Page.GetByTestId("message-text").AllTextContentsAsync());
        Assert.Equal(expected, await alice.Page.GetByTestId("message-text").AllTextContentsAsync());
        await bob.Page.ReloadAsync();
        await ChatUser.WaitOnlineAsync(bob.Page);
        await Expect(bob.Page.GetByTestId("message")).ToHaveCountAsync(4);
        Assert.Equal(expected, await bob.Page.GetByTestId("message-text").AllTextContentsAsync());
        Assert.Equal("[]", await bob.Page.EvaluateAsync<string>(
            "() => JSON.stringify(Object.keys(localStorage).filter(k => k.startsWith('chat.outbox')))"));

        // Issue 17, secrets in logs: the token is never in a socket's URL; each socket's first frame carries it.
        var used = sockets.Where(s => !s.Sent.IsEmpty).ToList();
        Assert.True(used.Count >= 3, $"expected the first socket, a reconnect and one after the reload; saw {used.Count}");
        foreach (var (url, sent) in sockets)
        {
            Assert.EndsWith("/ws", url, StringComparison.Ordinal);
            if (sent.TryPeek(out string? first)) Assert.StartsWith("{\"type\":\"auth\",\"token\":\"", first, StringComparison.Ordinal);
        }

        alice.AssertNoConsoleErrors();
        bob.AssertNoConsoleErrors();
    }
}
