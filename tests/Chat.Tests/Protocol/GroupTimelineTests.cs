using System.Net;
using System.Text.Json;
using Chat.Client;
using Chat.Tests.Infrastructure;

namespace Chat.Tests.Protocol;

/// <summary>PROTOCOL.md v1.1 "People, groups, privacy": group admins, the stored group timeline, receipts against the members at send time.</summary>
public sealed class GroupTimelineTests
{
    private static string[] Ids(JsonElement e, string list) => e.GetProperty(list).EnumerateArray().Select(x => x.GetString()!).ToArray();

    [Fact]
    public async Task Admins_are_promoted_and_demoted_and_the_last_admin_stays()
    {
        await using var server = await TestServer.StartAsync();
        var (_, a) = await server.NewUserAsync();
        var (_, b) = await server.NewUserAsync();
        var (_, c) = await server.NewUserAsync();
        var (_, stranger) = await server.NewUserAsync();
        await using var sb = await server.ConnectReadyAsync(b.Token);
        string gid = (await server.PostAsync("/api/groups", new { name = "Admins", members = new[] { b.UserId, c.UserId } }, a.Token)).Body.Str("group_id")!;
        await sb.NextAsync("group_update", ProtocolKit.Wait);

        // Bad input changes nothing: non-members, unknown users, an empty list, a non-admin asking.
        (await server.PostAsync($"/api/groups/{gid}/admins", new { user_ids = new[] { stranger.UserId } }, a.Token)).AssertError(HttpStatusCode.BadRequest, "invalid_request");
        (await server.PostAsync($"/api/groups/{gid}/admins", new { user_ids = new[] { "nosuchuser" } }, a.Token)).AssertError(HttpStatusCode.BadRequest, "invalid_request");
        (await server.PostAsync($"/api/groups/{gid}/admins", new { user_ids = Array.Empty<string>() }, a.Token)).AssertError(HttpStatusCode.BadRequest, "invalid_request");
        (await server.PostAsync($"/api/groups/{gid}/admins", new { user_ids = new[] { b.UserId } }, b.Token)).AssertError(HttpStatusCode.Forbidden, "forbidden");
        (await server.PostAsync($"/api/groups/{gid}/admins", new { user_ids = new[] { b.UserId } }, stranger.Token)).AssertError(HttpStatusCode.NotFound, "not_found");
        (await server.CallAsync(HttpMethod.Delete, $"/api/groups/{gid}/admins/{a.UserId}", null, a.Token)).AssertError(HttpStatusCode.Conflict, "conflict");
        (await server.CallAsync(HttpMethod.Delete, $"/api/groups/{gid}/admins/{stranger.UserId}", null, a.Token)).AssertError(HttpStatusCode.NotFound, "not_found");
        Assert.Equal([a.UserId], Ids((await server.GetAsync($"/api/groups/{gid}", a.Token)).Body, "admins"));
        (await sb.FenceAsync()).AssertNone("group_update");

        var promoted = await server.PostAsync($"/api/groups/{gid}/admins", new { user_ids = new[] { b.UserId } }, a.Token);
        promoted.AssertStatus(HttpStatusCode.OK);
        Assert.Equal(new[] { a.UserId, b.UserId }.Order(), Ids(promoted.Body, "admins").Order());
        var added = await sb.NextAsync("group_update", ProtocolKit.Wait);
        Assert.Equal("admin_added", added.Str("action"));
        Assert.Equal([b.UserId], Ids(added, "user_ids"));
        Assert.Equal(a.UserId, added.Str("by"));
        Assert.False(string.IsNullOrEmpty(added.Str("event_id")));

        // b (now admin) demotes a; then b is the last admin and cannot step down.
        var demoted = await server.CallAsync(HttpMethod.Delete, $"/api/groups/{gid}/admins/{a.UserId}", null, b.Token);
        demoted.AssertStatus(HttpStatusCode.OK);
        Assert.Equal([b.UserId], Ids(demoted.Body, "admins"));
        Assert.Equal("admin_removed", (await sb.NextAsync("group_update", ProtocolKit.Wait)).Str("action"));
        (await server.CallAsync(HttpMethod.Delete, $"/api/groups/{gid}/admins/{b.UserId}", null, b.Token)).AssertError(HttpStatusCode.Conflict, "conflict");
        (await server.PostAsync($"/api/groups/{gid}/admins", new { user_ids = new[] { c.UserId } }, a.Token)).AssertError(HttpStatusCode.Forbidden, "forbidden");
        Assert.Equal([b.UserId], Ids((await server.GetAsync($"/api/groups/{gid}", c.Token)).Body, "admins"));
    }

    [Fact]
    public async Task Renames_to_empty_or_huge_names_and_unknown_members_change_nothing()
    {
        await using var server = await TestServer.StartAsync();
        var (_, a) = await server.NewUserAsync();
        string gid = (await server.PostAsync("/api/groups", new { name = "Keep", members = Array.Empty<string>() }, a.Token)).Body.Str("group_id")!;
        foreach (string bad in new[] { "", "   ", new string('x', 10 * 1024), new string('y', 101) })
            (await server.CallAsync(HttpMethod.Patch, $"/api/groups/{gid}", new { name = bad }, a.Token)).AssertError(HttpStatusCode.BadRequest, "invalid_request");
        (await server.PostAsync($"/api/groups/{gid}/members", new { user_ids = new[] { "nosuchuser" } }, a.Token)).AssertError(HttpStatusCode.BadRequest, "invalid_request");
        var g = (await server.GetAsync($"/api/groups/{gid}", a.Token)).Body;
        Assert.Equal("Keep", g.Str("name"));
        Assert.Equal([a.UserId], Ids(g, "members"));
        var events = (await server.GetAsync($"/api/groups/{gid}/events", a.Token)).Body.GetProperty("events");
        Assert.Equal(["created"], events.EnumerateArray().Select(e => e.Str("action")!));
    }

    [Fact]
    public async Task Group_changes_are_stored_after_a_seq_without_taking_one()
    {
        await using var server = await TestServer.StartAsync();
        var (_, a) = await server.NewUserAsync();
        var (_, b) = await server.NewUserAsync();
        var (_, d) = await server.NewUserAsync();
        var (_, stranger) = await server.NewUserAsync();
        await using var sa = await server.ConnectReadyAsync(a.Token);
        await using var sb = await server.ConnectReadyAsync(b.Token);
        string gid = (await server.PostAsync("/api/groups", new { name = "Timeline", members = new[] { b.UserId } }, a.Token)).Body.Str("group_id")!;
        var created = await sb.NextAsync("group_update", ProtocolKit.Wait);
        Assert.Equal(0, created.Long("after_seq"));
        Assert.Equal("Timeline", created.Str("name"));

        await sa.SendMessageAsync(gid, "m1", "one"); // seq 1
        await sa.SendMessageAsync(gid, "m2", "two"); // seq 2
        (await server.PostAsync($"/api/groups/{gid}/members", new { user_ids = new[] { d.UserId } }, a.Token)).AssertStatus(HttpStatusCode.OK);
        var addedLive = await sb.NextAsync("group_update", ProtocolKit.Wait);
        Assert.Equal("member_added", addedLive.Str("action"));
        Assert.Equal(2, addedLive.Long("after_seq"));
        (await server.CallAsync(HttpMethod.Patch, $"/api/groups/{gid}", new { name = "Renamed" }, a.Token)).AssertStatus(HttpStatusCode.OK);
        var third = await sa.SendMessageAsync(gid, "m3", "three");
        Assert.Equal(3, third.Long("seq")); // the events took no seq
        (await server.CallAsync(HttpMethod.Delete, $"/api/groups/{gid}/members/{d.UserId}", null, a.Token)).AssertStatus(HttpStatusCode.NoContent);

        var asc = (await server.GetAsync($"/api/groups/{gid}/events?after_seq=0", b.Token)).Body;
        var rows = asc.GetProperty("events").EnumerateArray().ToList();
        Assert.Equal(["member_added", "updated", "member_removed"], rows.Select(e => e.Str("action")!));
        Assert.Equal([2L, 2L, 3L], rows.Select(e => e.Long("after_seq")));
        Assert.Equal(addedLive.Str("event_id"), rows[0].Str("event_id"));
        Assert.Equal("Renamed", rows[1].Str("name"));
        Assert.Equal([d.UserId], Ids(rows[2], "user_ids"));
        Assert.False(asc.GetProperty("has_more").GetBoolean());

        // Newest first by default, paged with has_more; before_seq keeps the older ones.
        var page = (await server.GetAsync($"/api/groups/{gid}/events?limit=2", b.Token)).Body;
        Assert.Equal(["member_removed", "updated"], page.GetProperty("events").EnumerateArray().Select(e => e.Str("action")!));
        Assert.True(page.GetProperty("has_more").GetBoolean());
        var older = (await server.GetAsync($"/api/groups/{gid}/events?before_seq=2", b.Token)).Body;
        Assert.Equal(["created"], older.GetProperty("events").EnumerateArray().Select(e => e.Str("action")!));

        // History and unread counts are v1's: three messages, seq 1-3.
        var history = (await server.GetAsync($"/api/chats/{gid}/messages?limit=50", b.Token)).Body.GetProperty("messages");
        Assert.Equal(3, history.GetArrayLength());

        (await server.GetAsync($"/api/groups/{gid}/events", stranger.Token)).AssertError(HttpStatusCode.NotFound, "not_found");
        (await server.GetAsync($"/api/groups/{gid}/events?limit=0", b.Token)).AssertError(HttpStatusCode.BadRequest, "invalid_request");
        (await server.GetAsync($"/api/groups/{gid}/events?limit=1000", b.Token)).AssertError(HttpStatusCode.BadRequest, "invalid_request");
        (await server.GetAsync($"/api/groups/{gid}/events?after_seq=1&before_seq=2", b.Token)).AssertError(HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task A_message_read_by_everyone_stays_read_when_a_member_joins_later()
    {
        await using var server = await TestServer.StartAsync();
        var (_, a) = await server.NewUserAsync();
        var (_, b) = await server.NewUserAsync();
        var (_, late) = await server.NewUserAsync();
        await using var sa = await server.ConnectReadyAsync(a.Token);
        await using var sb = await server.ConnectReadyAsync(b.Token);
        string gid = (await server.PostAsync("/api/groups", new { name = "Ticks", members = new[] { b.UserId } }, a.Token)).Body.Str("group_id")!;
        await sa.SendMessageAsync(gid, "m1", "one");
        await sb.NextAsync("new_message", ProtocolKit.Wait);
        await sb.SendFrameAsync(new { type = "read", chat_id = gid, seq = 1 });
        await sa.NextAsync("read_receipt", ProtocolKit.Wait);

        async Task<string?> StatusAsync() =>
            (await server.GetAsync($"/api/chats/{gid}/messages?limit=50", a.Token)).Body.GetProperty("messages").EnumerateArray()
                .Single(m => m.Long("seq") == 1).Str("status");
        Assert.Equal("read", await StatusAsync());

        (await server.PostAsync($"/api/groups/{gid}/members", new { user_ids = new[] { late.UserId } }, a.Token)).AssertStatus(HttpStatusCode.OK);
        Assert.Equal("read", await StatusAsync());

        // A message sent after the join waits for the new member too.
        await sa.SendMessageAsync(gid, "m2", "two");
        await sb.NextAsync("new_message", ProtocolKit.Wait);
        await sb.SendFrameAsync(new { type = "read", chat_id = gid, seq = 2 });
        await sa.NextAsync("read_receipt", ProtocolKit.Wait);
        string? second = (await server.GetAsync($"/api/chats/{gid}/messages?limit=50", a.Token)).Body.GetProperty("messages").EnumerateArray()
            .Single(m => m.Long("seq") == 2).Str("status");
        Assert.NotEqual("read", second);
    }
}
