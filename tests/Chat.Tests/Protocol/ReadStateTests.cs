using System.Net;
using Chat.Client;
using Chat.Tests.Infrastructure;

namespace Chat.Tests.Protocol;

/// <summary>PROTOCOL.md read state: read / POST read, read_receipt to the senders of newly read messages, sync_read, never back.</summary>
public sealed class ReadStateTests
{
    [Fact]
    public async Task Read_receipt_goes_only_to_senders_of_the_newly_read_messages_and_sync_read_to_the_readers_other_devices()
    {
        await using var server = await TestServer.StartAsync();
        var (_, a) = await server.NewUserAsync();
        var (_, b) = await server.NewUserAsync();
        var (_, c) = await server.NewUserAsync();
        var (_, c2) = await server.LoginAsync(c.Username, "c laptop");
        var (_, c3) = await server.LoginAsync(c.Username, "c offline-ish");
        await using var sa = await server.ConnectReadyAsync(a.Token);
        await using var sb = await server.ConnectReadyAsync(b.Token);
        await using var sc = await server.ConnectReadyAsync(c.Token);
        await using var sc2 = await server.ConnectReadyAsync(c2.Token);
        string gid = (await server.PostAsync("/api/groups", new { name = "R", members = new[] { b.UserId, c.UserId } }, a.Token)).Body.Str("group_id")!;

        var a1 = await sa.SendMessageAsync(gid, "a1", "a1"); // seq 1
        var a2 = await sa.SendMessageAsync(gid, "a2", "a2"); // seq 2
        var b3 = await sb.SendMessageAsync(gid, "b3", "b3"); // seq 3
        for (int i = 0; i < 3; i++) await sc.NextAsync("new_message", ProtocolKit.Wait);

        // c reads up to seq 2 (by message_id): only a sent messages 1-2.
        await sc.SendFrameAsync(new { type = "read", chat_id = gid, message_id = a2.Str("message_id") });
        var rr = await sa.NextAsync("read_receipt", ProtocolKit.Wait);
        Assert.Equal(gid, rr.Str("chat_id"));
        Assert.Equal(a2.Str("message_id"), rr.Str("message_id"));
        Assert.Equal(a2.Str("message_id"), rr.Str("last_read_message_id"));
        Assert.Equal(2, rr.Long("seq"));
        Assert.Equal(c.UserId, rr.Str("read_by"));
        Assert.True(rr.Long("timestamp") > 0);
        var sync = await sc2.NextAsync("sync_read", ProtocolKit.Wait);
        Assert.Equal(gid, sync.Str("chat_id"));
        Assert.Equal(a2.Str("message_id"), sync.Str("last_read_message_id"));
        Assert.Equal(2, sync.Long("seq"));
        (await sb.FenceAsync()).AssertNone("read_receipt");
        Assert.DoesNotContain(await sc.FenceAsync(), f => f.Type() is "sync_read" or "read_receipt"); // not the reading device

        // c reads up to 3 by seq: only b's message is newly read.
        await sc.SendFrameAsync(new { type = "read", chat_id = gid, seq = 3 });
        var rrB = await sb.NextAsync("read_receipt", ProtocolKit.Wait);
        Assert.Equal(3, rrB.Long("seq"));
        Assert.Equal(b3.Str("message_id"), rrB.Str("last_read_message_id"));
        Assert.Equal(3, (await sc2.NextAsync("sync_read", ProtocolKit.Wait)).Long("seq"));
        (await sa.FenceAsync()).AssertNone("read_receipt");

        // Never moves back: reading seq 1 again changes nothing and sends nothing.
        await sc.SendFrameAsync(new { type = "read", chat_id = gid, message_id = a1.Str("message_id") });
        await sc.FenceAsync();
        (await sa.FenceAsync()).AssertNone("read_receipt");
        (await sc2.FenceAsync()).AssertNone("sync_read");
        var receipts = await server.GetAsync($"/api/chats/{gid}/receipts", a.Token);
        var cRow = receipts.Body.GetProperty("members").EnumerateArray().Single(m => m.Str("user_id") == c.UserId);
        Assert.Equal(3, cRow.Long("read_seq"));

        // POST read does the same; the device whose token made it gets no sync_read, the others do.
        await using var sc3 = await server.ConnectReadyAsync(c3.Token);
        var a4 = await sa.SendMessageAsync(gid, "a4", "a4");
        await sc.NextAsync("new_message", ProtocolKit.Wait);
        var post = await server.PostAsync($"/api/chats/{gid}/read", new { seq = 4 }, c2.Token);
        Assert.True(post.Status is HttpStatusCode.NoContent or HttpStatusCode.OK, post.Status.ToString());
        var rr4 = await sa.NextAsync("read_receipt", ProtocolKit.Wait);
        Assert.Equal(4, rr4.Long("seq"));
        Assert.Equal(a4.Str("message_id"), rr4.Str("message_id"));
        Assert.Equal(4, (await sc.NextAsync("sync_read", ProtocolKit.Wait)).Long("seq"));
        Assert.Equal(4, (await sc3.NextAsync("sync_read", ProtocolKit.Wait)).Long("seq"));
        (await sc2.FenceAsync()).AssertNone("sync_read");

        // Bad reads.
        (await server.PostAsync($"/api/chats/{gid}/read", new { }, c.Token)).AssertError(HttpStatusCode.BadRequest, "invalid_request");
        await sc.SendFrameAsync(new { type = "read", chat_id = gid, message_id = Guid.CreateVersion7().ToString() });
        await sc.ExpectErrorAsync("not_found");
        await sc.SendFrameAsync(new { type = "read", chat_id = "nosuchgroup", seq = 1 });
        await sc.ExpectErrorAsync("not_found");
    }

    [Fact]
    public async Task Reading_own_messages_sends_no_read_receipt_and_reads_beyond_the_head_are_clamped()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, a) = await server.NewUserAsync();
        var (_, b) = await server.NewUserAsync();
        string chat = ProtocolKit.DirectId(a.UserId, b.UserId);
        await using var sa = await server.ConnectReadyAsync(a.Token);
        await using var sb = await server.ConnectReadyAsync(b.Token);
        await sa.SendMessageAsync(chat, "x", "x1");
        await sb.NextAsync("new_message", ProtocolKit.Wait);

        // b reads "up to 999": the pointer stops at the last message (2 later messages are still unread).
        await sb.SendFrameAsync(new { type = "read", chat_id = chat, seq = 999 });
        Assert.Equal(1, (await sa.NextAsync("read_receipt", ProtocolKit.Wait)).Long("seq"));
        await sa.SendMessageAsync(chat, "y", "x2");
        await ProtocolKit.EventuallyAsync(async () =>
            (await server.GetAsync($"/api/users/{b.UserId}/chats", b.Token)).Body.GetProperty("chats")[0].Long("unread_count") == 1, "one unread for b");

        // a reads her own message range: nobody gets a read_receipt.
        await sa.SendFrameAsync(new { type = "read", chat_id = chat, seq = 2 });
        await sa.FenceAsync();
        (await sb.FenceAsync()).AssertNone("read_receipt");
        (await sa.FenceAsync()).AssertNone("read_receipt");
        _ = alice;
    }
}
