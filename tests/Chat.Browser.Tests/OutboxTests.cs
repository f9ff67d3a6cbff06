using Chat.Browser.Tests.Infrastructure;

namespace Chat.Browser.Tests;

/// <summary>The web client's outbox (issue 17): a chat's messages are stored in the order they were sent even when the
/// server rate-limits some of them, and oversized messages and files are refused before anything is sent.</summary>
[Collection(BrowserCollection.Name)]
public sealed class OutboxTests(BrowserFixture fx, ITestOutputHelper output)
{
    [Fact]
    public async Task Rate_limited_messages_keep_their_order_and_oversized_content_and_files_are_refused_before_sending()
    {
        // Burst 30, then one message every 2 s: the last three of 33 are refused with rate_limited and retried.
        string dataDir = Path.Combine(fx.DataDir, "outbox-" + Guid.NewGuid().ToString("N"));
        var (server, address) = BrowserFixture.StartServer(dataDir,
            ("Chat:RateLimit:MessagesPerMinute", "30"), ("Chat:Limits:MaxFileBytes", "1000"));
        await using var _ = server;
        await using var alice = await fx.NewBrowserAsync(output, "alice", server: address);
        await using var bob = await fx.NewBrowserAsync(output, "bob", server: address);
        string bobName = fx.UniqueName("bob");
        await alice.SignUpAsync(fx.UniqueName("alice"), "Alice");
        await bob.SignUpAsync(bobName, "Bob");
        await alice.StartDirectChatAsync(bobName);

        var sent = Enumerable.Range(1, 33).Select(i => $"m{i}").ToArray();
        foreach (string text in sent) await alice.SendAsync(text);

        // Bob's view is the server's order (by seq).
        await bob.OpenChatAsync("Alice");
        await Expect(bob.Message("m33")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        var texts = await bob.Page.GetByTestId("message-text").AllInnerTextsAsync();
        Assert.Equal(sent, texts.Select(t => t.Trim()).ToArray());
        await Expect(alice.Page.GetByTestId("message").Filter(new() { HasText = "Failed" })).ToHaveCountAsync(0);

        // 6,000 emoji are 24,000 UTF-8 bytes (over the 16 KiB default) but within the text box's character limit.
        var input = alice.Page.GetByTestId("message-input");
        string huge = string.Concat(Enumerable.Repeat("😀", 6000));
        await input.FillAsync(huge);
        await input.PressAsync("Enter");
        await Expect(alice.Page.GetByTestId("toast").Filter(new() { HasText = "messages can be up to 16 KB" })).ToBeVisibleAsync();
        await Expect(input).ToHaveValueAsync(huge); // kept, so it can be shortened

        await alice.Page.GetByTestId("file-input").SetInputFilesAsync(new FilePayload
        {
            Name = "big.bin",
            MimeType = "application/octet-stream",
            Buffer = new byte[2000],
        });
        await Expect(alice.Page.GetByTestId("toast").Filter(new() { HasText = "big.bin is 2.0 KB; files can be up to 1000 B." })).ToBeVisibleAsync();
        await Expect(alice.Page.GetByTestId("message")).ToHaveCountAsync(33); // no pending bubble, no upload
        alice.AssertNoConsoleErrors();
        bob.AssertNoConsoleErrors();
    }
}
