using System.Net;
using Chat.Client;
using Chat.Protocol;
using Chat.Tests.Infrastructure;

namespace Chat.Tests.Protocol;

/// <summary>PROTOCOL.md "History": cursors, directions, limit clamp, has_more, members only, is_read / status.</summary>
public sealed class HistoryTests
{
    private static long[] Seqs(System.Text.Json.JsonElement page) =>
        page.GetProperty("messages").EnumerateArray().Select(m => m.Long("seq")).ToArray();

    private static bool HasMore(System.Text.Json.JsonElement page) => page.GetProperty("has_more").GetBoolean();

    private static long[] Range(long from, long to) =>
        from <= to ? Enumerable.Range((int)from, (int)(to - from + 1)).Select(i => (long)i).ToArray()
                   : Enumerable.Range((int)to, (int)(from - to + 1)).Select(i => (long)i).Reverse().ToArray();

    [Fact]
    public async Task Cursors_directions_limits_and_has_more()
    {
        await using var server = await TestServer.StartAsync();
        var (_, a) = await server.NewUserAsync();
        var (_, b) = await server.NewUserAsync();
        string chat = ProtocolKit.DirectId(a.UserId, b.UserId);
        await using var sa = await server.ConnectReadyAsync(a.Token);
        var timestamps = new List<long>();
        // Two bursts with a pause between, so that a timestamp cursor has a strict cut at seq 61.
        for (int i = 1; i <= 60; i++) await sa.SendMessageFrameAsync(chat, $"m{i}", $"h{i}");
        for (int i = 1; i <= 60; i++) timestamps.Add((await sa.NextAsync("ack", ProtocolKit.Wait)).Long("timestamp"));
        await Task.Delay(20);
        for (int i = 61; i <= 130; i++) await sa.SendMessageFrameAsync(chat, $"m{i}", $"h{i}");
        for (int i = 61; i <= 130; i++) timestamps.Add((await sa.NextAsync("ack", ProtocolKit.Wait)).Long("timestamp"));
        Assert.True(timestamps[60] > timestamps[59]);
        string url = $"/api/chats/{chat}/messages";

        // Default: newest first, 50.
        var page = (await server.GetAsync(url, b.Token)).Body;
        Assert.Equal(Range(130, 81), Seqs(page));
        Assert.True(HasMore(page));
        var first = page.GetProperty("messages")[0];
        Assert.Equal(chat, first.Str("chat_id"));
        Assert.Equal(a.UserId, first.Str("from"));
        Assert.Equal("m130", first.Str("content"));
        Assert.True(first.TryGetProperty("attachment", out var att) && att.ValueKind == System.Text.Json.JsonValueKind.Null);
        Assert.False(string.IsNullOrEmpty(first.Str("message_id")));
        Assert.True(first.Long("timestamp") > 0);

        // limit is clamped at 100.
        page = (await server.GetAsync(url + "?limit=1000", b.Token)).Body;
        Assert.Equal(Range(130, 31), Seqs(page));
        Assert.True(HasMore(page));

        // before_seq pages downward; the last page says has_more=false.
        page = (await server.GetAsync(url + "?before_seq=31&limit=100", b.Token)).Body;
        Assert.Equal(Range(30, 1), Seqs(page));
        Assert.False(HasMore(page));
        page = (await server.GetAsync(url + "?before_seq=31&limit=30", b.Token)).Body;
        Assert.Equal(Range(30, 1), Seqs(page));
        Assert.False(HasMore(page));
        page = (await server.GetAsync(url + "?before_seq=31&limit=29", b.Token)).Body;
        Assert.Equal(Range(30, 2), Seqs(page));
        Assert.True(HasMore(page));

        // after_seq: oldest first (catch-up direction).
        page = (await server.GetAsync(url + "?after_seq=0&limit=10", b.Token)).Body;
        Assert.Equal(Range(1, 10), Seqs(page));
        Assert.True(HasMore(page));
        page = (await server.GetAsync(url + "?after_seq=120&limit=10", b.Token)).Body;
        Assert.Equal(Range(121, 130), Seqs(page));
        Assert.False(HasMore(page));
        page = (await server.GetAsync(url + "?after_seq=125", b.Token)).Body;
        Assert.Equal(Range(126, 130), Seqs(page));
        Assert.False(HasMore(page));
        page = (await server.GetAsync(url + "?after_seq=130", b.Token)).Body;
        Assert.Empty(Seqs(page));
        Assert.False(HasMore(page));

        // before (timestamp, the seed form): messages strictly older than it, newest first.
        long cut = timestamps[60]; // the timestamp of seq 61
        page = (await server.GetAsync(url + $"?before={cut}&limit=100", b.Token)).Body;
        Assert.Equal(Range(60, 1), Seqs(page));
        Assert.False(HasMore(page));
        page = (await server.GetAsync(url + $"?before={cut}&limit=20", b.Token)).Body;
        Assert.Equal(Range(60, 41), Seqs(page));
        Assert.True(HasMore(page));

        // Bad cursors are 400, not 500.
        (await server.GetAsync(url + "?before_seq=abc", b.Token)).AssertStatus(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task History_and_receipts_are_for_members_only()
    {
        await using var server = await TestServer.StartAsync();
        var (_, a) = await server.NewUserAsync();
        var (_, b) = await server.NewUserAsync();
        var (_, eve) = await server.NewUserAsync();
        string chat = ProtocolKit.DirectId(a.UserId, b.UserId);
        await using var sa = await server.ConnectReadyAsync(a.Token);
        await sa.SendMessageAsync(chat, "secret", "s1");

        (await server.GetAsync($"/api/chats/{chat}/messages", eve.Token)).AssertError(HttpStatusCode.NotFound, "not_found");
        (await server.GetAsync($"/api/chats/{chat}/receipts", eve.Token)).AssertError(HttpStatusCode.NotFound, "not_found");
        (await server.PostAsync($"/api/chats/{chat}/read", new { seq = 1 }, eve.Token)).AssertError(HttpStatusCode.NotFound, "not_found");
        (await server.GetAsync("/api/chats/nosuchgroup/messages", a.Token)).AssertError(HttpStatusCode.NotFound, "not_found");
        (await server.GetAsync($"/api/chats/{chat}/messages", null)).AssertError(HttpStatusCode.Unauthorized, "unauthorized");

        var receipts = await server.GetAsync($"/api/chats/{chat}/receipts", b.Token);
        receipts.AssertStatus(HttpStatusCode.OK);
        var members = receipts.Body.GetProperty("members").EnumerateArray().ToList();
        Assert.Equal(new[] { a.UserId, b.UserId }.Order(), members.Select(m => m.Str("user_id")).Order());
        Assert.All(members, m => { _ = m.Long("delivered_seq"); _ = m.Long("read_seq"); });
    }

    [Fact]
    public async Task Status_moves_sent_then_delivered_then_read_and_is_read_follows_the_pointers()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, a) = await server.NewUserAsync();
        var (bob, b) = await server.NewUserAsync();
        string chat = ProtocolKit.DirectId(a.UserId, b.UserId);
        await using var sa = await server.ConnectReadyAsync(a.Token);
        var m1 = await sa.SendMessageAsync(chat, "one", "t1");
        var m2 = await sa.SendMessageAsync(chat, "two", "t2");

        async Task<Dictionary<long, MessageDto>> Mine() => (await alice.HistoryAsync(chat)).Messages.ToDictionary(m => m.Seq);
        var h = await Mine();
        Assert.All(h.Values, m => Assert.Equal("sent", m.Status));
        Assert.All(h.Values, m => Assert.False(m.IsRead));

        // Bob's device acks seq 1 only.
        await using var sb = await server.ConnectAsync(b.Token, autoAck: false);
        await sb.NextAsync("new_message", ProtocolKit.Wait);
        await sb.AckAsync(m1.Str("message_id")!);
        await ProtocolKit.EventuallyAsync(async () => (await Mine())[1].Status == "delivered", "seq 1 delivered");
        h = await Mine();
        Assert.Equal("sent", h[2].Status);
        Assert.False(h[1].IsRead);

        // Bob reads up to seq 2 (read implies delivered).
        await sb.SendFrameAsync(new { type = "read", chat_id = chat, seq = 2 });
        await ProtocolKit.EventuallyAsync(async () => (await Mine()).Values.All(m => m.Status == "read"), "both read");
        Assert.All((await Mine()).Values, m => Assert.True(m.IsRead));

        // Bob's view: others' messages carry is_read for bob, and no status.
        var bobs = await bob.HistoryAsync(chat);
        Assert.All(bobs.Messages, m => Assert.True(m.IsRead));
        Assert.All(bobs.Messages, m => Assert.Null(m.Status));
        _ = m2;

        // A reply from bob is unread for alice and "sent" for bob.
        var reply = await sb.SendMessageAsync(chat, "three", "t3");
        var forAlice = (await alice.HistoryAsync(chat)).Messages.Single(m => m.Seq == 3);
        Assert.False(forAlice.IsRead);
        Assert.Null(forAlice.Status);
        Assert.Equal("sent", (await bob.HistoryAsync(chat)).Messages.Single(m => m.Seq == 3).Status);
        _ = reply;
    }
}
