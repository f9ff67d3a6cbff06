using System.Net;
using Chat.Client;
using Chat.Tests.Infrastructure;

namespace Chat.Tests.Protocol;

/// <summary>PROTOCOL.md "Chats" (direct ids) and the new_message / ack rules.</summary>
public sealed class MessagingTests
{
    [Fact]
    public async Task Direct_chat_id_is_the_sorted_pair_and_post_direct_returns_it()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, a) = await server.NewUserAsync("alice");
        var (_, b) = await server.NewUserAsync("bob");
        string expected = ProtocolKit.DirectId(a.UserId, b.UserId);

        var fromA = await server.PostAsync("/api/chats/direct", new { user_id = b.UserId }, a.Token);
        var fromB = await server.PostAsync("/api/chats/direct", new { user_id = a.UserId }, b.Token);
        fromA.AssertStatus(HttpStatusCode.OK);
        Assert.Equal(expected, fromA.Body.Str("chat_id"));
        Assert.Equal(expected, fromB.Body.Str("chat_id"));
        var self = await server.PostAsync("/api/chats/direct", new { user_id = a.UserId }, a.Token);
        Assert.Equal($"{a.UserId}_{a.UserId}", self.Body.Str("chat_id"));
        (await server.PostAsync("/api/chats/direct", new { user_id = "nosuchuser" }, a.Token)).AssertError(HttpStatusCode.NotFound, "not_found");
        (await server.PostAsync("/api/chats/direct", new { }, a.Token)).AssertError(HttpStatusCode.BadRequest, "invalid_request");
        (await server.PostAsync("/api/chats/direct", new { user_id = b.UserId }, null)).AssertError(HttpStatusCode.Unauthorized, "unauthorized");

        // Either participant may send first; the reversed (unsorted) id is not that chat.
        await using var bs = await server.ConnectReadyAsync(b.Token);
        var ack = await bs.SendMessageAsync(expected, "b first", "b1");
        Assert.Equal(1, ack.Long("seq"));
        string reversed = expected.Split('_') is var p ? $"{p[1]}_{p[0]}" : "";
        await bs.SendMessageFrameAsync(reversed, "wrong id", "b2");
        var err = await bs.NextAsync("error", ProtocolKit.Wait);
        Assert.Equal("b2", err.Str("client_msg_id"));
        Assert.Contains(err.Str("code"), new[] { "not_found", "invalid_request" });
        Assert.Single((await alice.HistoryAsync(expected)).Messages);
    }

    [Fact]
    public async Task Chat_with_oneself_works_and_reaches_the_users_other_devices()
    {
        await using var server = await TestServer.StartAsync();
        var (api, me) = await server.NewUserAsync("solo");
        var (_, me2) = await server.LoginAsync(me.Username, "second");
        string self = $"{me.UserId}_{me.UserId}";
        await using var d1 = await server.ConnectReadyAsync(me.Token);
        await using var d2 = await server.ConnectReadyAsync(me2.Token);
        var ack = await d1.SendMessageAsync(self, "note to self", "n1");
        Assert.Equal(1, ack.Long("seq"));
        var got = await d2.NextAsync("new_message", ProtocolKit.Wait);
        Assert.Equal("note to self", got.Str("content"));
        Assert.Equal(self, got.Str("chat_id"));
        var frames = await d1.FenceAsync();
        frames.AssertNone("new_message"); // the sender's device gets the ack, not the event
        var history = await api.HistoryAsync(self);
        Assert.Equal("note to self", Assert.Single(history.Messages).Content);
    }

    [Fact]
    public async Task Ack_and_new_message_carry_every_contract_field()
    {
        await using var server = await TestServer.StartAsync();
        var (_, a) = await server.NewUserAsync();
        var (_, b) = await server.NewUserAsync();
        string chat = ProtocolKit.DirectId(a.UserId, b.UserId);
        await using var sa = await server.ConnectReadyAsync(a.Token);
        await using var sb = await server.ConnectReadyAsync(b.Token);
        long before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var ack = await sa.SendMessageAsync(chat, "héllo ✓", "cm-1");
        Assert.Equal("cm-1", ack.Str("client_msg_id"));
        Assert.Equal(chat, ack.Str("chat_id"));
        Assert.Equal(1, ack.Long("seq"));
        Assert.True(Guid.TryParse(ack.Str("message_id"), out var id));
        Assert.Equal(7, id.Version);
        Assert.InRange(ack.Long("timestamp"), before - 60_000, before + 60_000);

        var msg = await sb.NextAsync("new_message", ProtocolKit.Wait);
        Assert.Equal(ack.Str("message_id"), msg.Str("message_id"));
        Assert.Equal(chat, msg.Str("chat_id"));
        Assert.Equal(1, msg.Long("seq"));
        Assert.Equal(a.UserId, msg.Str("from"));
        Assert.Equal("héllo ✓", msg.Str("content"));
        Assert.Equal(ack.Long("timestamp"), msg.Long("timestamp"));
        Assert.Equal("cm-1", msg.Str("client_msg_id"));
    }

    [Fact]
    public async Task Non_members_are_forbidden_and_unknown_chats_are_not_found_with_nothing_stored()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, a) = await server.NewUserAsync();
        var (_, b) = await server.NewUserAsync();
        var (_, eve) = await server.NewUserAsync("eve");
        string chat = ProtocolKit.DirectId(a.UserId, b.UserId);
        await using var sa = await server.ConnectReadyAsync(a.Token);
        await using var sb = await server.ConnectReadyAsync(b.Token);
        await using var se = await server.ConnectReadyAsync(eve.Token);
        var ack = await sa.SendMessageAsync(chat, "private", "p1");
        await sb.NextAsync("new_message", ProtocolKit.Wait);

        await se.SendMessageFrameAsync(chat, "let me in", "e1");
        await se.ExpectErrorAsync("forbidden", "e1");
        // An ack names a message, not a chat: another chat's message is not_found, like an unknown id (issue 17).
        await se.SendFrameAsync(new { type = "ack", message_id = ack.Str("message_id") });
        await se.ExpectErrorAsync("not_found");
        await se.SendFrameAsync(new { type = "read", chat_id = chat, seq = 1 });
        await se.ExpectErrorAsync("forbidden");
        await se.SendFrameAsync(new { type = "typing_start", chat_id = chat });
        await se.ExpectErrorAsync("forbidden");

        // Unknown chats and users: not_found.
        await se.SendMessageFrameAsync("nosuchgroup", "x", "e2");
        await se.ExpectErrorAsync("not_found", "e2");
        string ghost = ProtocolKit.DirectId(eve.UserId, "ffffffffffffffffffffffffffffffff");
        await se.SendMessageFrameAsync(ghost, "x", "e3");
        await se.ExpectErrorAsync("not_found", "e3");
        await se.SendFrameAsync(new { type = "ack", message_id = Guid.CreateVersion7().ToString() });
        await se.ExpectErrorAsync("not_found");

        // Nothing was stored, relayed or changed.
        var history = await alice.HistoryAsync(chat);
        Assert.Equal(["private"], history.Messages.Select(m => m.Content));
        var frames = await sb.FenceAsync();
        Assert.DoesNotContain(frames, f => f.Type() is "new_message" or "typing_start");
        var receipts = await alice.ReceiptsAsync(chat);
        Assert.Equal(0, receipts.Members.Single(m => m.UserId == b.UserId).ReadSeq);
        Assert.DoesNotContain(receipts.Members, m => m.UserId == eve.UserId);
    }

    [Fact]
    public async Task Content_up_to_the_limit_is_accepted_and_beyond_it_is_content_too_large()
    {
        await using var server = await TestServer.StartAsync();
        var (api, a) = await server.NewUserAsync();
        var (_, b) = await server.NewUserAsync();
        string chat = ProtocolKit.DirectId(a.UserId, b.UserId);
        await using var s = await server.ConnectReadyAsync(a.Token);

        var exact = await s.SendMessageAsync(chat, new string('a', 16384), "exact");
        Assert.Equal(1, exact.Long("seq"));
        await s.SendMessageFrameAsync(chat, new string('a', 16385), "over");
        await s.ExpectErrorAsync("content_too_large", "over");
        // The limit is in UTF-8 bytes: 5462 three-byte characters are 16386 bytes.
        await s.SendMessageFrameAsync(chat, new string('€', 5462), "multi");
        await s.ExpectErrorAsync("content_too_large", "multi");
        var multiOk = await s.SendMessageAsync(chat, new string('€', 5461), "multi-ok");
        Assert.Equal(2, multiOk.Long("seq"));
        Assert.Equal(2, (await api.HistoryAsync(chat)).Messages.Count);
    }

    [Fact]
    public async Task Content_limit_is_configurable()
    {
        await using var server = await TestServer.StartAsync(("Chat:Limits:MaxContentBytes", "10"));
        var (_, a) = await server.NewUserAsync();
        await using var s = await server.ConnectReadyAsync(a.Token);
        string self = $"{a.UserId}_{a.UserId}";
        await s.SendMessageAsync(self, "0123456789", "ten");
        await s.SendMessageFrameAsync(self, "0123456789!", "eleven");
        await s.ExpectErrorAsync("content_too_large", "eleven");
    }

    [Fact]
    public async Task Rate_limit_answers_rate_limited_with_retry_after_and_stores_nothing()
    {
        await using var server = await TestServer.StartAsync(("Chat:RateLimit:MessagesPerMinute", "5"));
        var (api, a) = await server.NewUserAsync();
        var (_, a2) = await server.LoginAsync(a.Username);
        var (_, b) = await server.NewUserAsync();
        string chat = ProtocolKit.DirectId(a.UserId, b.UserId);
        await using var s = await server.ConnectReadyAsync(a.Token);
        await using var s2 = await server.ConnectReadyAsync(a2.Token);
        for (int i = 1; i <= 5; i++) await s.SendMessageAsync(chat, $"m{i}", $"c{i}");

        await s.SendMessageFrameAsync(chat, "too many", "c6");
        var error = await s.ExpectErrorAsync("rate_limited", "c6");
        Assert.True(error.Long("retry_after_ms") > 0, error.ToString());
        Assert.True(error.Long("retry_after_ms") <= 60_000, error.ToString());
        // Per user, not per device.
        await s2.SendMessageFrameAsync(chat, "other device", "c7");
        await s2.ExpectErrorAsync("rate_limited", "c7");
        Assert.Equal(5, (await api.HistoryAsync(chat)).Messages.Count);

        // A retry of a stored message is not a new message: out of quota it still gets its original ack.
        var retried = await s2.SendMessageAsync(chat, "m3 again", "c3");
        Assert.Equal(3, retried.Long("seq"));
        Assert.Equal(5, (await api.HistoryAsync(chat)).Messages.Count);

        // Someone else is not limited.
        await using var sb = await server.ConnectReadyAsync(b.Token);
        Assert.Equal(6, (await sb.SendMessageAsync(chat, "bob is fine", "b1")).Long("seq"));
    }

    [Fact]
    public async Task Retry_with_the_same_client_msg_id_returns_the_same_ack_from_any_device_and_stores_once()
    {
        await using var server = await TestServer.StartAsync();
        var (api, a) = await server.NewUserAsync();
        var (_, a2) = await server.LoginAsync(a.Username);
        var (_, b) = await server.NewUserAsync();
        string chat = ProtocolKit.DirectId(a.UserId, b.UserId);
        await using var s = await server.ConnectReadyAsync(a.Token);
        await using var s2 = await server.ConnectReadyAsync(a2.Token);
        await using var sb = await server.ConnectReadyAsync(b.Token);

        var first = await s.SendMessageAsync(chat, "once", "dup");
        var again = await s.SendMessageAsync(chat, "once", "dup");
        var fromOtherDevice = await s2.SendMessageAsync(chat, "once", "dup");
        foreach (var ack in new[] { again, fromOtherDevice })
        {
            Assert.Equal(first.Str("message_id"), ack.Str("message_id"));
            Assert.Equal(first.Long("seq"), ack.Long("seq"));
            Assert.Equal(first.Long("timestamp"), ack.Long("timestamp"));
            Assert.Equal(first.Str("chat_id"), ack.Str("chat_id"));
        }
        // Two copies sent back to back without waiting: still one message.
        await s.SendMessageFrameAsync(chat, "burst", "dup2");
        await s.SendMessageFrameAsync(chat, "burst", "dup2");
        var acks = new[] { await s.NextAsync("ack", ProtocolKit.Wait), await s.NextAsync("ack", ProtocolKit.Wait) };
        Assert.Equal(acks[0].Str("message_id"), acks[1].Str("message_id"));
        Assert.Equal(2, acks[0].Long("seq"));

        // Another user may use the same client_msg_id: it is unique per sender only.
        Assert.Equal(3, (await sb.SendMessageAsync(chat, "bob's dup", "dup")).Long("seq"));
        var history = await api.HistoryAsync(chat);
        Assert.Equal([3L, 2L, 1L], history.Messages.Select(m => m.Seq));
        // The receiver got each message exactly once.
        var got = (await sb.FenceAsync()).OfType("new_message").ToList();
        Assert.Equal([1L, 2L], got.Seqs());
    }

    [Fact]
    public async Task Concurrent_senders_get_gapless_seqs_and_every_device_sees_seq_order()
    {
        await using var server = await TestServer.StartAsync();
        var (api, a) = await server.NewUserAsync();
        var (_, a2) = await server.LoginAsync(a.Username);
        var (_, b) = await server.NewUserAsync();
        string chat = ProtocolKit.DirectId(a.UserId, b.UserId);
        await using var sa = await server.ConnectReadyAsync(a.Token);
        await using var sa2 = await server.ConnectReadyAsync(a2.Token);
        await using var sb = await server.ConnectReadyAsync(b.Token);
        const int PerSender = 40;

        async Task<List<long>> Burst(ChatSocket s, string tag)
        {
            for (int i = 0; i < PerSender; i++) await s.SendMessageFrameAsync(chat, $"{tag}{i}", $"{tag}-{i}");
            var seqs = new List<long>();
            for (int i = 0; i < PerSender; i++) seqs.Add((await s.NextAsync("ack", ProtocolKit.Wait)).Long("seq"));
            return seqs;
        }
        var results = await Task.WhenAll(Burst(sa, "a"), Burst(sa2, "x"), Burst(sb, "b"));
        var all = results.SelectMany(r => r).Order().ToList();
        Assert.Equal(Enumerable.Range(1, 3 * PerSender).Select(i => (long)i), all);

        // Each device gets every message not sent from that device, in seq order, once.
        foreach (var (socket, own) in new[] { (sa, results[0]), (sa2, results[1]), (sb, results[2]) })
        {
            var expected = all.Except(own).ToList();
            var received = new List<long>();
            while (received.Count < expected.Count) received.Add((await socket.NextAsync("new_message", ProtocolKit.Wait)).Long("seq"));
            Assert.Equal(expected, received);
        }
        var page = await api.HistoryAsync(chat, limit: 100, afterSeq: 0);
        Assert.Equal(Enumerable.Range(1, 100).Select(i => (long)i), page.Messages.Select(m => m.Seq));
    }
}
