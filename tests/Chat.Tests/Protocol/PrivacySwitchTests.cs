using System.Net;
using System.Text.Json;
using Chat.Client;
using Chat.Tests.Infrastructure;

namespace Chat.Tests.Protocol;

/// <summary>
/// PROTOCOL.md v1.1 privacy switches, enforced by the server on every path: <c>share_presence=false</c> (live frames,
/// REST presence, user lookup, chat list) and <c>send_read_receipts=false</c> (read_receipt frames, the receipts endpoint,
/// message <c>status</c>/<c>is_read</c> in history and search), while the user's own read state keeps working.
/// </summary>
public sealed class PrivacySwitchTests
{
    private static Task<ProtocolKit.Reply> PatchMeAsync(TestServer server, object body, string token) =>
        server.CallAsync(HttpMethod.Patch, "/api/users/me", body, token);

    private static Task<JsonElement> NextPresence(ChatSocket s, string userId) =>
        s.NextAsync(f => f.Type() == "presence_update" && f.Str("user_id") == userId, ProtocolKit.Wait);

    private static void AssertHidden(JsonElement p)
    {
        Assert.Equal("offline", p.Str("status"));
        Assert.Equal(JsonValueKind.Null, p.GetProperty("last_seen").ValueKind);
    }

    [Fact]
    public async Task Settings_default_on_change_one_at_a_time_and_refuse_wrong_types()
    {
        await using var server = await TestServer.StartAsync();
        var (_, me) = await server.NewUserAsync("ps");
        var settings = (await server.GetAsync("/api/users/me", me.Token)).Body.GetProperty("settings");
        Assert.True(settings.GetProperty("send_read_receipts").GetBoolean());
        Assert.True(settings.GetProperty("share_presence").GetBoolean());

        var off = await PatchMeAsync(server, new { settings = new { share_presence = false } }, me.Token);
        off.AssertStatus(HttpStatusCode.OK);
        Assert.False(off.Body.GetProperty("settings").GetProperty("share_presence").GetBoolean());
        Assert.True(off.Body.GetProperty("settings").GetProperty("send_read_receipts").GetBoolean()); // untouched
        var both = await PatchMeAsync(server, new { display_name = "Private Pat", settings = new { send_read_receipts = false } }, me.Token);
        Assert.Equal("Private Pat", both.Body.Str("display_name"));
        Assert.False(both.Body.GetProperty("settings").GetProperty("send_read_receipts").GetBoolean());
        Assert.False(both.Body.GetProperty("settings").GetProperty("share_presence").GetBoolean());

        foreach (object bad in new object[] { new { settings = new { share_presence = "no" } }, new { settings = new { send_read_receipts = 0 } }, new { settings = 5 } })
            (await PatchMeAsync(server, bad, me.Token)).AssertError(HttpStatusCode.BadRequest, "invalid_request");
        var now = (await server.GetAsync("/api/users/me", me.Token)).Body.GetProperty("settings");
        Assert.False(now.GetProperty("send_read_receipts").GetBoolean());
        Assert.False(now.GetProperty("share_presence").GetBoolean());
    }

    [Fact]
    public async Task Share_presence_off_hides_the_user_on_live_frames_rest_presence_user_lookup_and_the_chat_list()
    {
        await using var server = await TestServer.StartAsync();
        var (_, shy) = await server.NewUserAsync("shy");
        var (_, watcher) = await server.NewUserAsync("wat");
        string direct = ProtocolKit.DirectId(shy.UserId, watcher.UserId);
        await using var sw = await server.ConnectReadyAsync(watcher.Token);
        await sw.SendFrameAsync(new { type = "presence_subscribe", user_ids = new[] { shy.UserId } });
        await NextPresence(sw, shy.UserId);
        await using var ss = await server.ConnectReadyAsync(shy.Token);
        Assert.Equal("online", (await NextPresence(sw, shy.UserId)).Str("status"));
        await ss.SendMessageAsync(direct, "hi");

        // Switching off tells subscribers at once.
        (await PatchMeAsync(server, new { settings = new { share_presence = false } }, shy.Token)).AssertStatus(HttpStatusCode.OK);
        AssertHidden(await NextPresence(sw, shy.UserId));

        AssertHidden((await server.GetAsync($"/api/presence?user_ids={shy.UserId}", watcher.Token)).Body.GetProperty("presence")[0]);
        AssertHidden((await server.GetAsync($"/api/users/{shy.UserId}", watcher.Token)).Body);
        var chat = (await server.GetAsync($"/api/users/{watcher.UserId}/chats", watcher.Token)).Body.GetProperty("chats").EnumerateArray().Single(c => c.Str("chat_id") == direct);
        Assert.Equal("offline", chat.GetProperty("other_user").Str("status"));

        // Changes while hidden publish nothing at all; a fresh subscription sees offline.
        await ss.SendFrameAsync(new { type = "set_status", status = "away" });
        await ss.FenceAsync();
        Assert.DoesNotContain(await sw.FenceAsync(), f => f.Type() == "presence_update");
        await sw.SendFrameAsync(new { type = "presence_unsubscribe", user_ids = new[] { shy.UserId } });
        await sw.SendFrameAsync(new { type = "presence_subscribe", user_ids = new[] { shy.UserId } });
        AssertHidden(await NextPresence(sw, shy.UserId));

        // The user still sees others (the switch hides only themselves).
        Assert.Equal("online", (await server.GetAsync($"/api/users/{watcher.UserId}", shy.Token)).Body.Str("status"));

        // Back on: the real state at once.
        (await PatchMeAsync(server, new { settings = new { share_presence = true } }, shy.Token)).AssertStatus(HttpStatusCode.OK);
        var back = await NextPresence(sw, shy.UserId);
        Assert.Equal("away", back.Str("status"));
        Assert.True(back.Long("last_seen") > 0);
        Assert.Equal("away", (await server.GetAsync($"/api/users/{shy.UserId}", watcher.Token)).Body.Str("status"));
    }

    [Fact]
    public async Task Send_read_receipts_off_sends_no_receipt_and_never_counts_as_read_for_others_but_own_read_state_works()
    {
        await using var server = await TestServer.StartAsync();
        var (_, sender) = await server.NewUserAsync("snd");
        var (_, quiet) = await server.NewUserAsync("qt");
        var (_, quiet2) = await server.LoginAsync(quiet.Username, "second");
        string direct = ProtocolKit.DirectId(sender.UserId, quiet.UserId);
        await using var s = await server.ConnectReadyAsync(sender.Token);
        await using var q = await server.ConnectReadyAsync(quiet.Token);
        await using var q2 = await server.ConnectReadyAsync(quiet2.Token);
        (await PatchMeAsync(server, new { settings = new { send_read_receipts = false } }, quiet.Token)).AssertStatus(HttpStatusCode.OK);

        var ack = await s.SendMessageAsync(direct, "zebra crossing");
        await q.NextAsync("new_message", ProtocolKit.Wait);
        await q.SendFrameAsync(new { type = "read", chat_id = direct, seq = ack.Long("seq") });

        // The reader's other device syncs; the sender hears nothing.
        Assert.Equal(ack.Long("seq"), (await q2.NextAsync("sync_read", ProtocolKit.Wait)).Long("seq"));
        await q.FenceAsync();
        (await s.FenceAsync()).AssertNone("read_receipt");

        // Own unread count is 0 (own read state works).
        await ProtocolKit.EventuallyAsync(async () =>
            (await server.GetAsync($"/api/users/{quiet.UserId}/chats", quiet.Token)).Body.GetProperty("chats")[0].Long("unread_count") == 0, "own unread 0");

        // Receipts endpoint: delivered, never read, as others see it; the reader sees their own read_seq.
        JsonElement Row(ProtocolKit.Reply r) => r.Body.GetProperty("members").EnumerateArray().Single(m => m.Str("user_id") == quiet.UserId);
        var row = Row(await server.GetAsync($"/api/chats/{direct}/receipts", sender.Token));
        Assert.Equal(0, row.Long("read_seq"));
        Assert.Equal(ack.Long("seq"), row.Long("delivered_seq"));
        Assert.Equal(ack.Long("seq"), Row(await server.GetAsync($"/api/chats/{direct}/receipts", quiet.Token)).Long("read_seq"));

        // Message status in history and in search: delivered, not read.
        var mine = (await server.GetAsync($"/api/chats/{direct}/messages", sender.Token)).Body.GetProperty("messages")[0];
        Assert.Equal("delivered", mine.Str("status"));
        Assert.False(mine.GetProperty("is_read").GetBoolean());
        JsonElement hit = default;
        await ProtocolKit.EventuallyAsync(async () =>
        {
            var results = (await server.GetAsync("/api/search?q=zebra", sender.Token)).Body.GetProperty("results");
            if (results.GetArrayLength() == 0) return false;
            hit = results[0];
            return true;
        }, "indexed");
        Assert.Equal("delivered", hit.Str("status"));
        Assert.False(hit.GetProperty("is_read").GetBoolean());

        // The reader's own view of the message says read.
        Assert.True((await server.GetAsync($"/api/chats/{direct}/messages", quiet.Token)).Body.GetProperty("messages")[0].GetProperty("is_read").GetBoolean());

        // With the switch on, a new read is counted and receipted as usual.
        (await PatchMeAsync(server, new { settings = new { send_read_receipts = true } }, quiet.Token)).AssertStatus(HttpStatusCode.OK);
        var ack2 = await s.SendMessageAsync(direct, "second");
        await q.NextAsync(f => f.Type() == "new_message" && f.Str("content") == "second", ProtocolKit.Wait);
        await q.SendFrameAsync(new { type = "read", chat_id = direct, seq = ack2.Long("seq") });
        Assert.Equal(ack2.Long("seq"), (await s.NextAsync("read_receipt", ProtocolKit.Wait)).Long("seq"));
        Assert.Equal("read", (await server.GetAsync($"/api/chats/{direct}/messages", sender.Token)).Body.GetProperty("messages")[0].Str("status"));
    }
}
