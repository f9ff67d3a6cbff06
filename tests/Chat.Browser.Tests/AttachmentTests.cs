using Chat.Browser.Tests.Infrastructure;

namespace Chat.Browser.Tests;

[Collection(BrowserCollection.Name)]
public sealed class AttachmentTests(BrowserFixture fx, ITestOutputHelper output)
{
    [Fact]
    public async Task Image_shows_as_thumbnail_on_the_other_side_and_opens_full_size_and_files_are_cards()
    {
        await using var alice = await fx.NewBrowserAsync(output, "alice");
        await using var bob = await fx.NewBrowserAsync(output, "bob");
        string bobName = fx.UniqueName("bob");
        await alice.SignUpAsync(fx.UniqueName("alice"), "Alice");
        await bob.SignUpAsync(bobName, "Bob");
        await alice.StartDirectChatAsync(bobName);
        await alice.SendAsync("Photos from the trip:");
        await bob.OpenChatAsync("Alice");

        // Pick an image with the file input: upload (progress), then the message with the attachment.
        await alice.Page.GetByTestId("file-input").SetInputFilesAsync(new FilePayload
        {
            Name = "sunset.png",
            MimeType = "image/png",
            Buffer = TestImages.GradientPng(640, 400),
        });
        var aliceImage = alice.Page.GetByTestId("message").Filter(new() { Has = alice.Page.GetByTestId("attachment-image") });
        await Expect(aliceImage.GetByTestId("msg-status")).ToHaveAttributeAsync("data-status", "read");

        // Bob gets the server's thumbnail (a signed URL, not a local blob) and it really loads.
        var bobImage = bob.Page.GetByTestId("attachment-image");
        await Expect(bobImage).ToHaveCountAsync(1);
        await Expect(bobImage).ToHaveAttributeAsync("alt", "sunset.png");
        await Expect(bobImage).ToHaveJSPropertyAsync("complete", true);
        Assert.DoesNotContain("blob:", await bobImage.GetAttributeAsync("src") ?? "", StringComparison.Ordinal);
        Assert.True(await bobImage.EvaluateAsync<int>("img => img.naturalWidth") > 0, "thumbnail did not load");

        // Clicking opens the full-size image.
        await bobImage.ClickAsync();
        var full = bob.Page.GetByTestId("lightbox-image");
        await Expect(full).ToBeVisibleAsync();
        await Expect(full).ToHaveJSPropertyAsync("complete", true);
        Assert.Equal(640, await full.EvaluateAsync<int>("img => img.naturalWidth"));
        await bob.Page.Keyboard.PressAsync("Escape");
        await Expect(full).ToBeHiddenAsync();

        // A non-image file is a download card with name and size; this one is dropped onto the conversation.
        var dataTransfer = await alice.Page.EvaluateHandleAsync(
            "() => { const dt = new DataTransfer(); dt.items.add(new File(['Packing list: tent, stove, map\\n'], 'packing-list.txt', { type: 'text/plain' })); return dt; }");
        await alice.Page.GetByTestId("conversation").DispatchEventAsync("dragenter", new Dictionary<string, object> { ["dataTransfer"] = dataTransfer });
        await alice.Page.GetByTestId("conversation").DispatchEventAsync("drop", new Dictionary<string, object> { ["dataTransfer"] = dataTransfer });
        var card = bob.Page.GetByTestId("attachment-file");
        await Expect(card.GetByTestId("attachment-name")).ToHaveTextAsync("packing-list.txt");
        await Expect(card.GetByTestId("attachment-size")).ToHaveTextAsync("31 B");
        Assert.StartsWith("http", await card.GetAttributeAsync("href") ?? "", StringComparison.Ordinal);

        await bob.SendAsync("Wow, beautiful!");
        await Expect(alice.Message("Wow, beautiful!")).ToBeVisibleAsync();
        await bob.ScreenshotAsync("attachment.png");

        alice.AssertNoConsoleErrors();
        bob.AssertNoConsoleErrors();
    }
}
