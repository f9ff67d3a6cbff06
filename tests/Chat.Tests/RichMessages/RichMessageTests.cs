using System.Net;
using System.Text.Json;
using Chat.Client;
using Chat.Protocol;
using Chat.Tests.Infrastructure;
using Chat.Tests.Protocol;

namespace Chat.Tests.RichMessages;

/// <summary>PROTOCOL.md v1.1 "Edit, delete, react", "Revisions" and "Mentions", end to end over the socket and REST.</summary>
public sealed class RichMessageTests
{
    private static ClientFrame Frame(string type, string chatId, string messageId, string? content = null, string? emoji = null, string? requestId = null) =>
        new() { Type = type, ChatId = chatId, MessageId = messageId, Content = content, Emoji = emoji, RequestId = requestId };

    private static async Task<JsonElement> UpdatedAsync(ChatSocket s, long rev) =>
        await s.NextAsync(f => f.Type() == "message_updated" && f.Long("rev") == rev, ProtocolKit.Wait);

    [Fact]
    public async Task Edit_react_and_delete_reach_every_device_with_gap_free_revs_and_catch_up_by_changes()
    {
        await using var server = await TestServer.StartAsync();
        var (_, a) = await server.NewUserAsync();
        var (_, b) = await server.NewUserAsync();
        string chat = ProtocolKit.DirectId(a.UserId, b.UserId);
        await using var sa = await server.ConnectReadyAsync(a.Token);
        await using var sb = await server.ConnectReadyAsync(b.Token);
        string id = (await sa.SendMessageAsync(chat, "helo")).Str("message_id")!;
        var arrived = await sb.NextAsync("new_message", ProtocolKit.Wait);
        Assert.Equal("message", arrived.Str("kind"));
        Assert.Equal(0, arrived.Long("rev"));
        Assert.Equal(JsonValueKind.Null, arrived.GetProperty("edited_at").ValueKind);
        Assert.Empty(arrived.GetProperty("reactions").EnumerateArray());

        await sa.SendFrameAsync(Frame("edit_message", chat, id, content: "hello"));
        foreach (var s in new[] { sa, sb })
        {
            var u = await UpdatedAsync(s, 1);
            Assert.Equal("edited", u.Str("change"));
            Assert.Equal(a.UserId, u.Str("by"));
            Assert.Equal("hello", u.GetProperty("message").Str("content"));
            Assert.Equal(1, u.GetProperty("message").Long("rev"));
            Assert.True(u.GetProperty("message").GetProperty("edited_at").GetInt64() > 0);
        }
        var edits = (await server.GetAsync($"/api/chats/{chat}/messages/{id}/edits", b.Token)).Body.GetProperty("edits");
        Assert.Equal(["helo"], edits.EnumerateArray().Select(e => e.Str("content")));

        await sb.SendFrameAsync(Frame("react", chat, id, emoji: "👍"));
        await UpdatedAsync(sa, 2);
        await sb.SendFrameAsync(Frame("react", chat, id, emoji: "👍")); // again: nothing changes, nothing is sent
        await sa.SendFrameAsync(Frame("react", chat, id, emoji: "🎉"));
        await sa.SendFrameAsync(Frame("react", chat, id, emoji: "👍"));
        var r4 = (await UpdatedAsync(sb, 4)).GetProperty("message").GetProperty("reactions");
        Assert.Equal(["👍", "🎉"], r4.EnumerateArray().Select(x => x.Str("emoji")));
        Assert.Equal([b.UserId, a.UserId], r4[0].GetProperty("user_ids").EnumerateArray().Select(x => x.GetString()));
        Assert.Equal(2, r4[0].Long("count"));
        await sb.SendFrameAsync(Frame("unreact", chat, id, emoji: "🎉")); // b never reacted with 🎉: nothing
        await sa.SendFrameAsync(Frame("unreact", chat, id, emoji: "🎉"));
        await UpdatedAsync(sb, 5);
        var frames = await sb.FenceAsync();
        Assert.DoesNotContain(frames, f => f.Type() == "message_updated" && f.Long("rev") > 5);

        var changes = (await server.GetAsync($"/api/chats/{chat}/changes?after_rev=0", b.Token)).Body;
        Assert.Equal(5, changes.Long("rev"));
        Assert.False(changes.GetProperty("has_more").GetBoolean());
        var only = Assert.Single(changes.GetProperty("changes").EnumerateArray());
        Assert.Equal(5, only.Long("rev"));
        Assert.Equal(["👍"], only.GetProperty("reactions").EnumerateArray().Select(x => x.Str("emoji")));
        Assert.Empty((await server.GetAsync($"/api/chats/{chat}/changes?after_rev=5", b.Token)).Body.GetProperty("changes").EnumerateArray());
        var list = (await server.GetAsync($"/api/users/{b.UserId}/chats", b.Token)).Body.GetProperty("chats")[0];
        Assert.Equal(5, list.Long("rev"));
        Assert.Equal("hello", list.GetProperty("last_message").Str("content"));

        await sa.SendFrameAsync(Frame("delete_message", chat, id));
        var del = (await UpdatedAsync(sb, 6)).GetProperty("message");
        Assert.True(del.GetProperty("deleted").GetBoolean());
        Assert.Equal("", del.Str("content"));
        Assert.Empty(del.GetProperty("reactions").EnumerateArray());
        Assert.Empty((await server.GetAsync($"/api/chats/{chat}/messages/{id}/edits", b.Token)).Body.GetProperty("edits").EnumerateArray());
        var single = (await server.GetAsync($"/api/chats/{chat}/messages/{id}", b.Token)).Body;
        Assert.True(single.GetProperty("deleted").GetBoolean());
        list = (await server.GetAsync($"/api/users/{b.UserId}/chats", b.Token)).Body.GetProperty("chats")[0];
        Assert.True(list.GetProperty("last_message").GetProperty("deleted").GetBoolean());
        Assert.Equal(0, list.Long("unread_count"));
    }

    [Fact]
    public async Task Bad_frames_and_wrong_people_get_contract_errors_with_request_id_and_the_socket_stays_open()
    {
        await using var server = await TestServer.StartAsync();
        var (_, a) = await server.NewUserAsync();
        var (_, b) = await server.NewUserAsync();
        var (_, c) = await server.NewUserAsync();
        string chat = ProtocolKit.DirectId(a.UserId, b.UserId);
        string other = ProtocolKit.DirectId(a.UserId, c.UserId);
        await using var sa = await server.ConnectReadyAsync(a.Token);
        await using var sb = await server.ConnectReadyAsync(b.Token);
        await using var sc = await server.ConnectReadyAsync(c.Token);
        string id = (await sa.SendMessageAsync(chat, "mine")).Str("message_id")!;
        string elsewhere = (await sa.SendMessageAsync(other, "other chat")).Str("message_id")!;

        static async Task Expect(ChatSocket s, ClientFrame f, string code)
        {
            await s.SendFrameAsync(f);
            var e = await s.ExpectErrorAsync(code);
            Assert.Equal(f.RequestId, e.Str("request_id"));
        }

        await Expect(sb, Frame("edit_message", chat, id, content: "not yours", requestId: "r1"), ErrorCodes.Forbidden);
        await Expect(sb, Frame("delete_message", chat, id, requestId: "r2"), ErrorCodes.Forbidden); // direct chats have no admins
        await Expect(sc, Frame("edit_message", chat, id, content: "x", requestId: "r3"), ErrorCodes.Forbidden); // not a member
        await Expect(sc, Frame("react", chat, id, emoji: "👍", requestId: "r4"), ErrorCodes.Forbidden);
        await Expect(sa, Frame("edit_message", "nochat", id, content: "x", requestId: "r5"), ErrorCodes.NotFound);
        await Expect(sa, Frame("edit_message", chat, Guid.NewGuid().ToString(), content: "x", requestId: "r6"), ErrorCodes.NotFound);
        await Expect(sa, Frame("edit_message", chat, elsewhere, content: "x", requestId: "r7"), ErrorCodes.NotFound); // another chat's message
        await Expect(sa, Frame("edit_message", chat, id, content: "", requestId: "r8"), ErrorCodes.InvalidRequest);
        await Expect(sa, Frame("edit_message", chat, id, content: new string('x', 16385), requestId: "r9"), ErrorCodes.ContentTooLarge);
        await Expect(sa, Frame("edit_message", chat, "", content: "x", requestId: "r10"), ErrorCodes.InvalidRequest);
        foreach (string bad in new[] { "", "a b", "\u0007", new string('x', 65), "👍\n" })
            await Expect(sb, Frame("react", chat, id, emoji: bad, requestId: "e"), ErrorCodes.InvalidRequest);
        await Expect(sb, new ClientFrame { Type = "react", ChatId = chat, MessageId = id, RequestId = "e2" }, ErrorCodes.InvalidRequest);

        for (int i = 0; i < 20; i++) await sb.SendFrameAsync(Frame("react", chat, id, emoji: $"e{i}"));
        await UpdatedAsync(sb, 20);
        await Expect(sb, Frame("react", chat, id, emoji: "e20", requestId: "cap"), ErrorCodes.InvalidRequest);
        await sa.SendFrameAsync(Frame("react", chat, id, emoji: "e3")); // an emoji already there is still fine
        await UpdatedAsync(sa, 21);

        // reply_to must name a message of the same chat.
        await sa.SendFrameAsync(new ClientFrame { Type = "new_message", ChatId = chat, Content = "re", ClientMsgId = "re1", ReplyTo = elsewhere });
        await sa.ExpectErrorAsync(ErrorCodes.InvalidRequest, "re1");

        await sa.SendFrameAsync(Frame("delete_message", chat, id));
        await UpdatedAsync(sa, 22);
        await Expect(sa, Frame("edit_message", chat, id, content: "again", requestId: "d1"), ErrorCodes.Conflict);
        await Expect(sb, Frame("react", chat, id, emoji: "👍", requestId: "d2"), ErrorCodes.Conflict);
        await Expect(sa, Frame("delete_message", chat, id, requestId: "d3"), ErrorCodes.Conflict);
        // A reply to a deleted message is allowed.
        await sb.SendFrameAsync(new ClientFrame { Type = "new_message", ChatId = chat, Content = "re", ClientMsgId = "re2", ReplyTo = id });
        await sb.NextAsync(f => f.Type() == "ack" && f.Str("client_msg_id") == "re2", ProtocolKit.Wait);

        // REST: members only; bad numbers are 400, never 5xx.
        (await server.GetAsync($"/api/chats/{chat}/changes", c.Token)).AssertError(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        (await server.GetAsync($"/api/chats/{chat}/messages/{id}", c.Token)).AssertError(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        (await server.GetAsync($"/api/chats/{chat}/messages/{Guid.NewGuid()}/edits", a.Token)).AssertError(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        (await server.GetAsync($"/api/chats/{chat}/changes?after_rev=-1", a.Token)).AssertError(HttpStatusCode.BadRequest, ErrorCodes.InvalidRequest);
        Assert.Equal(HttpStatusCode.BadRequest, (await server.GetAsync($"/api/chats/{chat}/changes?after_rev=abc", a.Token)).Status);
    }

    [Fact]
    public async Task Group_admin_deletes_replies_carry_previews_and_mentions_count_in_the_chat_list()
    {
        await using var server = await TestServer.StartAsync();
        var (_, admin) = await server.NewUserAsync();
        var (_, m1) = await server.NewUserAsync();
        var (_, outsider) = await server.NewUserAsync();
        var group = (await server.PostAsync("/api/groups", new { name = "team", members = new[] { m1.UserId } }, admin.Token)).Body.Str("group_id")!;
        await using var sa = await server.ConnectReadyAsync(admin.Token);
        await using var s1 = await server.ConnectReadyAsync(m1.Token);

        string first = (await s1.SendMessageAsync(group, "first")).Str("message_id")!;
        await s1.SendFrameAsync(new ClientFrame
        {
            Type = "new_message",
            ChatId = group,
            ClientMsgId = "reply",
            ReplyTo = first,
            Content = $"@{admin.Username.ToUpperInvariant()} look, and @{outsider.Username} and email@{admin.Username}",
        });
        var reply = await sa.NextAsync(f => f.Type() == "new_message" && f.Str("client_msg_id") == "reply", ProtocolKit.Wait);
        Assert.Equal([admin.UserId], reply.GetProperty("mentions").EnumerateArray().Select(x => x.GetString()));
        var preview = reply.GetProperty("reply_to");
        Assert.Equal(first, preview.Str("message_id"));
        Assert.Equal("first", preview.Str("content"));
        Assert.False(preview.GetProperty("deleted").GetBoolean());
        var entry = (await server.GetAsync($"/api/users/{admin.UserId}/chats", admin.Token)).Body.GetProperty("chats")[0];
        Assert.Equal(1, entry.Long("mention_count"));
        Assert.Equal(2, entry.Long("unread_count"));

        // The admin deletes m1's message; the reply's preview then shows the tombstone.
        await sa.SendFrameAsync(Frame("delete_message", group, first));
        await UpdatedAsync(s1, 1);
        var history = (await server.GetAsync($"/api/chats/{group}/messages", admin.Token)).Body.GetProperty("messages");
        var replied = history.EnumerateArray().Single(m => m.Str("client_msg_id") == "reply").GetProperty("reply_to");
        Assert.True(replied.GetProperty("deleted").GetBoolean());
        Assert.Equal("", replied.Str("content"));
        entry = (await server.GetAsync($"/api/users/{admin.UserId}/chats", admin.Token)).Body.GetProperty("chats")[0];
        Assert.Equal(1, entry.Long("unread_count"));

        // An edit recomputes mentions; a plain member may not delete someone else's message.
        string replyId = history.EnumerateArray().Single(m => m.Str("client_msg_id") == "reply").Str("message_id")!;
        await s1.SendFrameAsync(Frame("edit_message", group, replyId, content: "no mention now"));
        Assert.Empty((await UpdatedAsync(sa, 2)).GetProperty("message").GetProperty("mentions").EnumerateArray());
        entry = (await server.GetAsync($"/api/users/{admin.UserId}/chats", admin.Token)).Body.GetProperty("chats")[0];
        Assert.Equal(0, entry.Long("mention_count"));
        string own = (await sa.SendMessageAsync(group, "admin's")).Str("message_id")!;
        await s1.SendFrameAsync(Frame("delete_message", group, own, requestId: "x"));
        await s1.ExpectErrorAsync(ErrorCodes.Forbidden);
    }
}
