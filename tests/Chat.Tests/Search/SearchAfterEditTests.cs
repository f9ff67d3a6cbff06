using System.Text.Json;
using Chat.Client;
using Chat.Protocol;
using Chat.Tests.Infrastructure;
using Chat.Tests.Protocol;

namespace Chat.Tests.Search;

/// <summary>The index follows real edits and deletes made with the v1.1 frames, and results carry the v1.1 fields.</summary>
public sealed class SearchAfterEditTests
{
    private static string[] Contents(JsonElement body) =>
        body.GetProperty("results").EnumerateArray().Select(m => m.Str("content")!).ToArray();

    [Fact]
    public async Task An_edited_message_matches_only_its_new_content_and_a_deleted_one_matches_nothing()
    {
        await using var server = await TestServer.StartAsync();
        var (_, a) = await server.NewUserAsync();
        var (_, b) = await server.NewUserAsync();
        string chat = ProtocolKit.DirectId(a.UserId, b.UserId);
        await using var sa = await server.ConnectReadyAsync(a.Token);
        string id = (await sa.SendMessageAsync(chat, "lunch at the harbour")).Str("message_id")!;
        await sa.SendMessageAsync(chat, "harbour tour tomorrow");

        await sa.SendFrameAsync(new ClientFrame { Type = "edit_message", ChatId = chat, MessageId = id, Content = "dinner at the harbour" });
        await sa.NextAsync(f => f.Type() == "message_updated" && f.Long("rev") == 1, ProtocolKit.Wait);
        Assert.Empty(Contents((await server.GetAsync("/api/search?q=lunch", b.Token)).Body));
        var hit = Assert.Single((await server.GetAsync("/api/search?q=dinn", b.Token)).Body.GetProperty("results").EnumerateArray());
        Assert.Equal("dinner at the harbour", hit.Str("content"));
        Assert.Equal(1, hit.Long("rev"));
        Assert.True(hit.GetProperty("edited_at").GetInt64() > 0);

        await sa.SendFrameAsync(new ClientFrame { Type = "delete_message", ChatId = chat, MessageId = id });
        await sa.NextAsync(f => f.Type() == "message_updated" && f.Long("rev") == 2, ProtocolKit.Wait);
        Assert.Empty(Contents((await server.GetAsync("/api/search?q=dinner", b.Token)).Body));
        Assert.Equal(["harbour tour tomorrow"], Contents((await server.GetAsync("/api/search?q=harbour", b.Token)).Body));
    }
}
