using Chat.Browser.Tests.Infrastructure;

namespace Chat.Browser.Tests;

/// <summary>The sidebar search box (wwwroot/js/ui/search.js) and the own username shown in the header.</summary>
[Collection(BrowserCollection.Name)]
public sealed class SearchTests(BrowserFixture fx, ITestOutputHelper output)
{
    [Fact]
    public async Task Search_box_finds_messages_highlights_words_as_text_and_opens_the_chat()
    {
        await using var alice = await fx.NewBrowserAsync(output, "alice");
        await using var bob = await fx.NewBrowserAsync(output, "bob");
        string aliceName = fx.UniqueName("alice"), bobName = fx.UniqueName("bob");
        await alice.SignUpAsync(aliceName, "Alice");
        await bob.SignUpAsync(bobName, "Bob");
        await Expect(alice.Page.GetByTestId("me-username")).ToHaveTextAsync("@" + aliceName);

        await alice.StartDirectChatAsync(bobName);
        await alice.SendAsync("Meet at the Café <b>tomorrow</b>");
        await alice.SendAsync("unrelated words");
        await alice.Page.Keyboard.PressAsync("Escape");

        var input = bob.Page.GetByTestId("search-input");
        await input.FillAsync("cafe tomor");
        var hit = bob.Page.GetByTestId("search-result");
        await Expect(hit).ToHaveCountAsync(1);
        var text = hit.GetByTestId("search-result-text");
        await Expect(text).ToHaveTextAsync("Meet at the Café <b>tomorrow</b>"); // user text stays text: no <b> element
        await Expect(text.Locator("b")).ToHaveCountAsync(0);
        await Expect(text.Locator("mark")).ToHaveTextAsync(["Café", "tomorrow"]);

        await input.FillAsync("nothingmatches");
        await Expect(bob.Page.GetByTestId("search-empty")).ToBeVisibleAsync();
        await input.FillAsync("caf");
        await bob.Page.GetByTestId("search-result").ClickAsync();
        await Expect(bob.Message("Meet at the Café <b>tomorrow</b>")).ToBeVisibleAsync();
        await input.FillAsync("");
        await Expect(bob.Page.GetByTestId("chat-list")).ToBeVisibleAsync();
    }
}
