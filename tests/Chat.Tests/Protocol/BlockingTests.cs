using System.Net;
using System.Text.Json;
using Chat.Client;
using Chat.Tests.Infrastructure;

namespace Chat.Tests.Protocol;

/// <summary>
/// PROTOCOL.md v1.1 blocking: one-way; the blocked user cannot send to the direct chat, sees the blocker offline with
/// no last seen and gets no typing from them; groups are unaffected; unblocking restores everything.
/// </summary>
public sealed class BlockingTests
{
    private static Task<JsonElement> NextPresence(ChatSocket s, string userId) =>
        s.NextAsync(f => f.Type() == "presence_update" && f.Str("user_id") == userId, ProtocolKit.Wait);

    private static JsonElement BlockList(ProtocolKit.Reply r) => r.Body.GetProperty("users");

    [Fact]
    public async Task Block_list_unblock_and_bad_input_answer_the_contracts_codes()
    {
        await using var server = await TestServer.StartAsync();
        var (_, me) = await server.NewUserAsync("blk");
        var (_, x) = await server.NewUserAsync("bx");
        var (_, y) = await server.NewUserAsync("by");

        Assert.Equal(0, BlockList(await server.GetAsync("/api/users/me/blocks", me.Token)).GetArrayLength());
        (await server.PostAsync("/api/users/me/blocks", new { user_id = x.UserId }, me.Token)).AssertStatus(HttpStatusCode.NoContent);
        (await server.PostAsync("/api/users/me/blocks", new { user_id = x.UserId }, me.Token)).AssertStatus(HttpStatusCode.NoContent); // idempotent
        (await server.PostAsync("/api/users/me/blocks", new { user_id = y.UserId }, me.Token)).AssertStatus(HttpStatusCode.NoContent);
        var list = BlockList(await server.GetAsync("/api/users/me/blocks", me.Token));
        Assert.Equal(new string?[] { x.UserId, y.UserId }, list.EnumerateArray().Select(u => u.Str("user_id")).ToArray());
        Assert.Equal(x.Username, list[0].Str("username"));
        // One-way: x's own list is empty.
        Assert.Equal(0, BlockList(await server.GetAsync("/api/users/me/blocks", x.Token)).GetArrayLength());

        // Bad input changes nothing.
        (await server.PostAsync("/api/users/me/blocks", new { user_id = me.UserId }, me.Token)).AssertError(HttpStatusCode.BadRequest, "invalid_request");
        (await server.PostAsync("/api/users/me/blocks", new { }, me.Token)).AssertError(HttpStatusCode.BadRequest, "invalid_request");
        (await server.PostAsync("/api/users/me/blocks", new { user_id = 42 }, me.Token)).AssertError(HttpStatusCode.BadRequest, "invalid_request");
        (await server.PostAsync("/api/users/me/blocks", new { user_id = "nobody-here" }, me.Token)).AssertError(HttpStatusCode.NotFound, "not_found");
        (await server.CallAsync(HttpMethod.Delete, "/api/users/me/blocks/nobody-here", null, me.Token)).AssertError(HttpStatusCode.NotFound, "not_found");
        (await server.PostAsync("/api/users/me/blocks", new { user_id = x.UserId }, null)).AssertError(HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Equal(2, BlockList(await server.GetAsync("/api/users/me/blocks", me.Token)).GetArrayLength());

        (await server.CallAsync(HttpMethod.Delete, $"/api/users/me/blocks/{x.UserId}", null, me.Token)).AssertStatus(HttpStatusCode.NoContent);
        (await server.CallAsync(HttpMethod.Delete, $"/api/users/me/blocks/{x.UserId}", null, me.Token)).AssertStatus(HttpStatusCode.NoContent);
        Assert.Equal(new string?[] { y.UserId }, BlockList(await server.GetAsync("/api/users/me/blocks", me.Token)).EnumerateArray().Select(u => u.Str("user_id")).ToArray());
    }

    [Fact]
    public async Task A_blocked_user_cannot_send_to_the_direct_chat_but_the_blocker_can_and_groups_are_unaffected()
    {
        await using var server = await TestServer.StartAsync();
        var (_, blocker) = await server.NewUserAsync("bk");
        var (_, blocked) = await server.NewUserAsync("bd");
        string direct = ProtocolKit.DirectId(blocker.UserId, blocked.UserId);
        string gid = (await server.PostAsync("/api/groups", new { name = "G", members = new[] { blocked.UserId } }, blocker.Token)).Body.Str("group_id")!;
        await using var sk = await server.ConnectReadyAsync(blocker.Token);
        await using var sd = await server.ConnectReadyAsync(blocked.Token);
        await sd.SendMessageAsync(direct, "before the block");

        (await server.PostAsync("/api/users/me/blocks", new { user_id = blocked.UserId }, blocker.Token)).AssertStatus(HttpStatusCode.NoContent);

        await sd.SendMessageFrameAsync(direct, "after the block", "refused-1");
        await sd.ExpectErrorAsync("forbidden", "refused-1"); // the socket stays open
        // Nothing was stored: the blocker's history has only the first message.
        var history = (await server.GetAsync($"/api/chats/{direct}/messages", blocker.Token)).Body.GetProperty("messages");
        Assert.Equal(new string?[] { "before the block" }, history.EnumerateArray().Select(m => m.Str("content")).ToArray());

        // The blocker can still write to them, and the group works both ways.
        await sk.SendMessageAsync(direct, "blocker speaks");
        Assert.Equal("blocker speaks", (await sd.NextAsync(f => f.Type() == "new_message" && f.Str("content") == "blocker speaks", ProtocolKit.Wait)).Str("content"));
        await sd.SendMessageAsync(gid, "group still fine");
        await sk.NextAsync(f => f.Type() == "new_message" && f.Str("content") == "group still fine", ProtocolKit.Wait);

        // Unblocked: sends go through again.
        (await server.CallAsync(HttpMethod.Delete, $"/api/users/me/blocks/{blocked.UserId}", null, blocker.Token)).AssertStatus(HttpStatusCode.NoContent);
        await sd.SendMessageAsync(direct, "after unblock");
        await sk.NextAsync(f => f.Type() == "new_message" && f.Str("content") == "after unblock", ProtocolKit.Wait);
    }

    [Fact]
    public async Task The_blocked_user_sees_the_blocker_offline_without_last_seen_everywhere_and_gets_no_typing()
    {
        await using var server = await TestServer.StartAsync();
        var (_, blocker) = await server.NewUserAsync("pk");
        var (_, blocked) = await server.NewUserAsync("pd");
        var (_, friend) = await server.NewUserAsync("pf");
        string direct = ProtocolKit.DirectId(blocker.UserId, blocked.UserId);
        string gid = (await server.PostAsync("/api/groups", new { name = "T", members = new[] { blocked.UserId, friend.UserId } }, blocker.Token)).Body.Str("group_id")!;
        await using var sd = await server.ConnectReadyAsync(blocked.Token);
        await sd.SendMessageAsync(direct, "hello"); // the direct chat is in both chat lists
        await using var sf = await server.ConnectReadyAsync(friend.Token);
        await sd.SendFrameAsync(new { type = "presence_subscribe", user_ids = new[] { blocker.UserId } });
        await sf.SendFrameAsync(new { type = "presence_subscribe", user_ids = new[] { blocker.UserId } });
        await NextPresence(sd, blocker.UserId);
        await NextPresence(sf, blocker.UserId);
        await using var sk = await server.ConnectReadyAsync(blocker.Token);
        Assert.Equal("online", (await NextPresence(sd, blocker.UserId)).Str("status"));
        Assert.Equal("online", (await NextPresence(sf, blocker.UserId)).Str("status"));

        // Blocking tells the blocked user's devices at once: offline, last_seen null.
        (await server.PostAsync("/api/users/me/blocks", new { user_id = blocked.UserId }, blocker.Token)).AssertStatus(HttpStatusCode.NoContent);
        var hidden = await NextPresence(sd, blocker.UserId);
        Assert.Equal("offline", hidden.Str("status"));
        Assert.Equal(JsonValueKind.Null, hidden.GetProperty("last_seen").ValueKind);

        // Every REST path agrees; the friend still sees the truth.
        var user = (await server.GetAsync($"/api/users/{blocker.UserId}", blocked.Token)).Body;
        Assert.Equal("offline", user.Str("status"));
        Assert.Equal(JsonValueKind.Null, user.GetProperty("last_seen").ValueKind);
        var presence = (await server.GetAsync($"/api/presence?user_ids={blocker.UserId}", blocked.Token)).Body.GetProperty("presence")[0];
        Assert.Equal("offline", presence.Str("status"));
        Assert.Equal(JsonValueKind.Null, presence.GetProperty("last_seen").ValueKind);
        var chats = (await server.GetAsync($"/api/users/{blocked.UserId}/chats", blocked.Token)).Body.GetProperty("chats");
        Assert.Equal("offline", chats.EnumerateArray().Single(c => c.Str("chat_id") == direct).GetProperty("other_user").Str("status"));
        Assert.Equal("online", (await server.GetAsync($"/api/users/{blocker.UserId}", friend.Token)).Body.Str("status"));

        // Live changes reach the friend, not the blocked user; neither does typing, in the direct chat or the group.
        await sk.SendFrameAsync(new { type = "set_status", status = "away" });
        Assert.Equal("away", (await NextPresence(sf, blocker.UserId)).Str("status"));
        await sk.SendFrameAsync(new { type = "typing_start", chat_id = gid });
        await sf.NextAsync(f => f.Type() == "typing_start" && f.Str("chat_id") == gid, ProtocolKit.Wait);
        await sk.SendFrameAsync(new { type = "typing_start", chat_id = direct });
        await sk.FenceAsync();
        var seen = await sd.FenceAsync();
        seen.AssertNone("typing_start");
        Assert.DoesNotContain(seen, f => f.Type() == "presence_update" && f.Str("user_id") == blocker.UserId);
        // A fresh subscription says the same.
        await sd.SendFrameAsync(new { type = "presence_unsubscribe", user_ids = new[] { blocker.UserId } });
        await sd.SendFrameAsync(new { type = "presence_subscribe", user_ids = new[] { blocker.UserId } });
        Assert.Equal("offline", (await NextPresence(sd, blocker.UserId)).Str("status"));

        // The blocker still sees the blocked user's typing and presence (one-way).
        await sd.SendFrameAsync(new { type = "typing_start", chat_id = direct });
        await sk.NextAsync(f => f.Type() == "typing_start" && f.Str("user_id") == blocked.UserId, ProtocolKit.Wait);

        // Unblocking shows the truth again at once, and live updates flow.
        (await server.CallAsync(HttpMethod.Delete, $"/api/users/me/blocks/{blocked.UserId}", null, blocker.Token)).AssertStatus(HttpStatusCode.NoContent);
        var back = await NextPresence(sd, blocker.UserId);
        Assert.Equal("away", back.Str("status"));
        Assert.True(back.Long("last_seen") > 0);
        await sk.SendFrameAsync(new { type = "set_status", status = "online" });
        Assert.Equal("online", (await NextPresence(sd, blocker.UserId)).Str("status"));
        await sk.SendFrameAsync(new { type = "typing_stop", chat_id = gid }); // relayed: the members were shown the start
        await sd.NextAsync(f => f.Type() == "typing_stop" && f.Str("user_id") == blocker.UserId, ProtocolKit.Wait);
    }
}
