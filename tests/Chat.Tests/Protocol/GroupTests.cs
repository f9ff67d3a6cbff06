using System.Net;
using System.Text.Json;
using Chat.Client;
using Chat.Protocol;
using Chat.Tests.Infrastructure;

namespace Chat.Tests.Protocol;

/// <summary>PROTOCOL.md "Chats" → groups: CRUD, admin rules, group_full, group_update events, removal.</summary>
public sealed class GroupTests
{
    private static string[] Ids(JsonElement group, string list) => group.GetProperty(list).EnumerateArray().Select(e => e.GetString()!).ToArray();

    [Fact]
    public async Task Create_get_patch_with_the_contract_shape_and_group_update_events()
    {
        await using var server = await TestServer.StartAsync();
        var (_, a) = await server.NewUserAsync("owner");
        var (_, b) = await server.NewUserAsync();
        var (_, c) = await server.NewUserAsync();
        var (_, a2) = await server.LoginAsync(a.Username);
        await using var sa = await server.ConnectReadyAsync(a.Token);
        await using var sa2 = await server.ConnectReadyAsync(a2.Token);
        await using var sb = await server.ConnectReadyAsync(b.Token);
        await using var sc = await server.ConnectReadyAsync(c.Token);

        long before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var created = await server.PostAsync("/api/groups", new { name = "Team Chat", description = "the team", members = new[] { b.UserId, b.UserId } }, a.Token);
        created.AssertStatus(HttpStatusCode.Created);
        var g = created.Body;
        string gid = g.Str("group_id")!;
        Assert.DoesNotContain('_', gid);
        Assert.Equal("Team Chat", g.Str("name"));
        Assert.Equal("the team", g.Str("description"));
        Assert.Equal(a.UserId, g.Str("created_by"));
        Assert.InRange(g.Long("created_at"), before - 60_000, before + 60_000);
        Assert.Equal(new[] { a.UserId, b.UserId }.Order(), Ids(g, "members").Order());
        Assert.Equal([a.UserId], Ids(g, "admins"));

        foreach (var s in new[] { sa, sa2, sb })
        {
            var evt = await s.NextAsync("group_update", ProtocolKit.Wait);
            Assert.Equal(gid, evt.Str("group_id"));
            Assert.Equal("created", evt.Str("action"));
            Assert.Equal(a.UserId, evt.Str("by"));
            Assert.Contains(b.UserId, Ids(evt, "user_ids"));
        }
        (await sc.FenceAsync()).AssertNone("group_update");

        // GET: members only, 404 for others (and for unknown ids).
        var got = await server.GetAsync($"/api/groups/{gid}", b.Token);
        got.AssertStatus(HttpStatusCode.OK);
        Assert.Equal(gid, got.Body.Str("group_id"));
        Assert.Equal("Team Chat", got.Body.Str("name"));
        Assert.Equal(Ids(g, "members").Order(), Ids(got.Body, "members").Order());
        (await server.GetAsync($"/api/groups/{gid}", c.Token)).AssertError(HttpStatusCode.NotFound, "not_found");
        (await server.GetAsync("/api/groups/nosuchgroup", a.Token)).AssertError(HttpStatusCode.NotFound, "not_found");

        // PATCH: admins only.
        (await server.CallAsync(HttpMethod.Patch, $"/api/groups/{gid}", new { name = "Hijacked" }, b.Token)).AssertError(HttpStatusCode.Forbidden, "forbidden");
        (await server.CallAsync(HttpMethod.Patch, $"/api/groups/{gid}", new { name = "Hijacked" }, c.Token)).AssertError(HttpStatusCode.NotFound, "not_found");
        (await server.CallAsync(HttpMethod.Patch, $"/api/groups/{gid}", new { name = "" }, a.Token)).AssertError(HttpStatusCode.BadRequest, "invalid_request");
        var patched = await server.CallAsync(HttpMethod.Patch, $"/api/groups/{gid}", new { name = "Renamed" }, a.Token);
        patched.AssertStatus(HttpStatusCode.OK);
        Assert.Equal("Renamed", patched.Body.Str("name"));
        Assert.Equal("the team", patched.Body.Str("description"));
        var evtUpd = await sb.NextAsync("group_update", ProtocolKit.Wait);
        Assert.Equal("updated", evtUpd.Str("action"));
        Assert.Equal(a.UserId, evtUpd.Str("by"));
        patched = await server.CallAsync(HttpMethod.Patch, $"/api/groups/{gid}", new { description = "new desc" }, a.Token);
        Assert.Equal("Renamed", patched.Body.Str("name"));
        Assert.Equal("new desc", patched.Body.Str("description"));
        Assert.Equal("Renamed", (await server.GetAsync($"/api/groups/{gid}", b.Token)).Body.Str("name"));
        (await sc.FenceAsync()).AssertNone("group_update");

        // Bad creates.
        (await server.PostAsync("/api/groups", new { name = "", members = Array.Empty<string>() }, a.Token)).AssertError(HttpStatusCode.BadRequest, "invalid_request");
        (await server.PostAsync("/api/groups", new { name = "x", members = new[] { "nosuchuser" } }, a.Token)).AssertStatus(HttpStatusCode.BadRequest);
        var alone = await server.PostAsync("/api/groups", new { name = "Just me", members = Array.Empty<string>() }, a.Token);
        alone.AssertStatus(HttpStatusCode.Created);
        Assert.Equal([a.UserId], Ids(alone.Body, "members"));
    }

    [Fact]
    public async Task Only_admins_add_and_remove_others_anyone_may_leave_and_non_members_get_404()
    {
        await using var server = await TestServer.StartAsync();
        var (_, a) = await server.NewUserAsync("admin");
        var (_, b) = await server.NewUserAsync();
        var (_, c) = await server.NewUserAsync();
        var (_, d) = await server.NewUserAsync();
        await using var sb = await server.ConnectReadyAsync(b.Token);
        await using var sc = await server.ConnectReadyAsync(c.Token);
        var g = (await server.PostAsync("/api/groups", new { name = "G", members = new[] { b.UserId } }, a.Token)).Body;
        string gid = g.Str("group_id")!;
        string members = $"/api/groups/{gid}/members";
        await sb.NextAsync("group_update", ProtocolKit.Wait);

        (await server.PostAsync(members, new { user_ids = new[] { c.UserId } }, b.Token)).AssertError(HttpStatusCode.Forbidden, "forbidden");
        (await server.PostAsync(members, new { user_ids = new[] { c.UserId } }, d.Token)).AssertError(HttpStatusCode.NotFound, "not_found");
        (await server.PostAsync(members, new { user_ids = Array.Empty<string>() }, a.Token)).AssertError(HttpStatusCode.BadRequest, "invalid_request");
        (await server.PostAsync(members, new { user_ids = new[] { "nosuchuser" } }, a.Token)).AssertStatus(HttpStatusCode.BadRequest);

        var added = await server.PostAsync(members, new { user_ids = new[] { c.UserId, b.UserId } }, a.Token);
        added.AssertStatus(HttpStatusCode.OK);
        Assert.Equal(new[] { a.UserId, b.UserId, c.UserId }.Order(), Ids(added.Body, "members").Order());
        Assert.Equal([a.UserId], Ids(added.Body, "admins"));
        foreach (var s in new[] { sb, sc })
        {
            var evt = await s.NextAsync("group_update", ProtocolKit.Wait);
            Assert.Equal("member_added", evt.Str("action"));
            Assert.Equal([c.UserId], Ids(evt, "user_ids")); // only who was actually added
            Assert.Equal(a.UserId, evt.Str("by"));
        }

        // A non-admin cannot remove someone else.
        (await server.CallAsync(HttpMethod.Delete, $"{members}/{c.UserId}", null, b.Token)).AssertError(HttpStatusCode.Forbidden, "forbidden");
        (await server.CallAsync(HttpMethod.Delete, $"{members}/{c.UserId}", null, d.Token)).AssertError(HttpStatusCode.NotFound, "not_found");
        (await server.CallAsync(HttpMethod.Delete, $"{members}/{d.UserId}", null, a.Token)).AssertError(HttpStatusCode.NotFound, "not_found");
        Assert.Equal(3, (await server.GetAsync($"/api/groups/{gid}", a.Token)).Body.GetProperty("members").GetArrayLength());

        // Leave: anyone removes themself.
        (await server.CallAsync(HttpMethod.Delete, $"{members}/{b.UserId}", null, b.Token)).AssertStatus(HttpStatusCode.NoContent);
        var left = await sc.NextAsync("group_update", ProtocolKit.Wait);
        Assert.Equal("member_removed", left.Str("action"));
        Assert.Equal([b.UserId], Ids(left, "user_ids"));
        Assert.Equal(b.UserId, left.Str("by"));
        (await server.GetAsync($"/api/groups/{gid}", b.Token)).AssertError(HttpStatusCode.NotFound, "not_found");

        // An admin removes anyone.
        (await server.CallAsync(HttpMethod.Delete, $"{members}/{c.UserId}", null, a.Token)).AssertStatus(HttpStatusCode.NoContent);
        var removed = await sc.NextAsync("group_update", ProtocolKit.Wait); // the removed member hears it too
        Assert.Equal("member_removed", removed.Str("action"));
        Assert.Equal([c.UserId], Ids(removed, "user_ids"));
        Assert.Equal([a.UserId], Ids((await server.GetAsync($"/api/groups/{gid}", a.Token)).Body, "members"));
    }

    [Fact]
    public async Task Group_full_on_create_and_add_changes_nothing()
    {
        await using var server = await TestServer.StartAsync(("Chat:Limits:MaxGroupMembers", "3"));
        var users = new List<AuthResponse>();
        for (int i = 0; i < 5; i++) users.Add((await server.NewUserAsync()).Auth);
        var a = users[0];
        await using var s3 = await server.ConnectReadyAsync(users[3].Token);

        // Creator + 3 = 4 > 3.
        (await server.PostAsync("/api/groups", new { name = "Too big", members = users.Skip(1).Take(3).Select(u => u.UserId) }, a.Token))
            .AssertError(HttpStatusCode.BadRequest, "group_full");
        (await s3.FenceAsync()).AssertNone("group_update");
        var chats = await server.GetAsync($"/api/users/{users[3].UserId}/chats", users[3].Token);
        Assert.Empty(chats.Body.GetProperty("chats").EnumerateArray());

        var g = await server.PostAsync("/api/groups", new { name = "Full", members = new[] { users[1].UserId, users[2].UserId } }, a.Token);
        g.AssertStatus(HttpStatusCode.Created);
        string gid = g.Body.Str("group_id")!;
        (await server.PostAsync($"/api/groups/{gid}/members", new { user_ids = new[] { users[3].UserId } }, a.Token))
            .AssertError(HttpStatusCode.BadRequest, "group_full");
        // Even a mixed add (one already a member, two new) is all-or-nothing.
        (await server.PostAsync($"/api/groups/{gid}/members", new { user_ids = new[] { users[1].UserId, users[3].UserId, users[4].UserId } }, a.Token))
            .AssertError(HttpStatusCode.BadRequest, "group_full");
        Assert.Equal(3, (await server.GetAsync($"/api/groups/{gid}", a.Token)).Body.GetProperty("members").GetArrayLength());
        (await server.GetAsync($"/api/groups/{gid}", users[3].Token)).AssertError(HttpStatusCode.NotFound, "not_found");
        (await s3.FenceAsync()).AssertNone("group_update");

        // Re-adding existing members is not growth.
        (await server.PostAsync($"/api/groups/{gid}/members", new { user_ids = new[] { users[1].UserId } }, a.Token)).AssertStatus(HttpStatusCode.OK);
        // After someone leaves there is room again.
        (await server.CallAsync(HttpMethod.Delete, $"/api/groups/{gid}/members/{users[2].UserId}", null, users[2].Token)).AssertStatus(HttpStatusCode.NoContent);
        (await server.PostAsync($"/api/groups/{gid}/members", new { user_ids = new[] { users[3].UserId } }, a.Token)).AssertStatus(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Group_messages_reach_every_member_device_and_a_removed_member_stops_at_once()
    {
        await using var server = await TestServer.StartAsync();
        var (_, a) = await server.NewUserAsync();
        var (_, b) = await server.NewUserAsync();
        var (_, c) = await server.NewUserAsync();
        var (_, c2) = await server.LoginAsync(c.Username);
        var (_, outsider) = await server.NewUserAsync();
        await using var sa = await server.ConnectReadyAsync(a.Token);
        await using var sb = await server.ConnectReadyAsync(b.Token);
        await using var sc = await server.ConnectReadyAsync(c.Token);
        await using var sc2 = await server.ConnectReadyAsync(c2.Token);
        await using var so = await server.ConnectReadyAsync(outsider.Token);
        string gid = (await server.PostAsync("/api/groups", new { name = "G", members = new[] { b.UserId, c.UserId } }, a.Token)).Body.Str("group_id")!;

        var ack1 = await sa.SendMessageAsync(gid, "hello group", "g1");
        Assert.Equal(1, ack1.Long("seq"));
        foreach (var s in new[] { sb, sc, sc2 })
        {
            var m = await s.NextAsync("new_message", ProtocolKit.Wait);
            Assert.Equal(gid, m.Str("chat_id"));
            Assert.Equal(1, m.Long("seq"));
            Assert.Equal(a.UserId, m.Str("from"));
        }
        Assert.Equal(2, (await sb.SendMessageAsync(gid, "from b", "b1")).Long("seq"));
        Assert.Equal(2, (await sc.NextAsync("new_message", ProtocolKit.Wait)).Long("seq"));
        Assert.Equal(2, (await sc2.NextAsync("new_message", ProtocolKit.Wait)).Long("seq"));
        Assert.Equal(2, (await sa.NextAsync("new_message", ProtocolKit.Wait)).Long("seq"));

        // The outsider: forbidden to send, read, type or ack; 404 on REST.
        await so.SendMessageFrameAsync(gid, "hi?", "o1");
        await so.ExpectErrorAsync("forbidden", "o1");
        await so.SendFrameAsync(new { type = "typing_start", chat_id = gid });
        await so.ExpectErrorAsync("forbidden");
        // An ack names a message, not a chat: another chat's message is not_found, like an unknown id (issue 17).
        await so.SendFrameAsync(new { type = "ack", message_id = ack1.Str("message_id") });
        await so.ExpectErrorAsync("not_found");
        Assert.DoesNotContain(await so.FenceAsync(), f => f.Type() is "new_message" or "group_update");

        // Remove c: c's devices hear member_removed, then nothing more of the group.
        (await server.CallAsync(HttpMethod.Delete, $"/api/groups/{gid}/members/{c.UserId}", null, a.Token)).AssertStatus(HttpStatusCode.NoContent);
        foreach (var s in new[] { sc, sc2 })
        {
            var evt = await s.NextAsync(f => f.Type() == "group_update" && f.Str("action") == "member_removed", ProtocolKit.Wait);
            Assert.Equal([c.UserId], Ids(evt, "user_ids"));
        }
        await sa.SendMessageAsync(gid, "after removal 1", "g2");
        await sa.SendMessageAsync(gid, "after removal 2", "g3");
        Assert.Equal(3, (await sb.NextAsync("new_message", ProtocolKit.Wait)).Long("seq"));
        Assert.Equal(4, (await sb.NextAsync("new_message", ProtocolKit.Wait)).Long("seq"));
        (await sc.FenceAsync()).AssertNone("new_message");
        (await sc2.FenceAsync()).AssertNone("new_message");

        // ... cannot send, read or type, and gets 404 for history, receipts and the group.
        await sc.SendMessageFrameAsync(gid, "still here?", "c1");
        await sc.ExpectErrorAsync("forbidden", "c1");
        await sc.SendFrameAsync(new { type = "read", chat_id = gid, seq = 4 });
        await sc.ExpectErrorAsync("forbidden");
        await sc.SendFrameAsync(new { type = "typing_start", chat_id = gid });
        await sc.ExpectErrorAsync("forbidden");
        (await server.GetAsync($"/api/chats/{gid}/messages", c.Token)).AssertError(HttpStatusCode.NotFound, "not_found");
        (await server.GetAsync($"/api/chats/{gid}/receipts", c.Token)).AssertError(HttpStatusCode.NotFound, "not_found");
        (await server.PostAsync($"/api/chats/{gid}/read", new { seq = 4 }, c.Token)).AssertError(HttpStatusCode.NotFound, "not_found");
        (await server.GetAsync($"/api/groups/{gid}", c.Token)).AssertError(HttpStatusCode.NotFound, "not_found");
        var receipts = await server.GetAsync($"/api/chats/{gid}/receipts", a.Token);
        Assert.DoesNotContain(c.UserId, receipts.Body.GetProperty("members").EnumerateArray().Select(m => m.Str("user_id")));
        var history = await server.GetAsync($"/api/chats/{gid}/messages", a.Token);
        Assert.Equal(4, history.Body.GetProperty("messages").GetArrayLength());

        // Nor does a reconnect of the removed member's device bring anything of the group.
        await using var sc3 = await server.ConnectReadyAsync(c.Token);
        (await sc3.FenceAsync()).AssertNone("new_message");
        var chats = await server.GetAsync($"/api/users/{c.UserId}/chats", c.Token);
        Assert.DoesNotContain(gid, chats.Body.GetProperty("chats").EnumerateArray().Select(x => x.Str("chat_id")));
    }

    [Fact]
    public async Task A_member_added_later_is_pushed_only_new_messages()
    {
        await using var server = await TestServer.StartAsync();
        var (_, a) = await server.NewUserAsync();
        var (_, b) = await server.NewUserAsync();
        await using var sa = await server.ConnectReadyAsync(a.Token);
        string gid = (await server.PostAsync("/api/groups", new { name = "G", members = Array.Empty<string>() }, a.Token)).Body.Str("group_id")!;
        await sa.SendMessageAsync(gid, "before b", "x1");
        await sa.SendMessageAsync(gid, "before b 2", "x2");
        await using (var sb = await server.ConnectReadyAsync(b.Token))
        {
            (await server.PostAsync($"/api/groups/{gid}/members", new { user_ids = new[] { b.UserId } }, a.Token)).AssertStatus(HttpStatusCode.OK);
            Assert.Equal("member_added", (await sb.NextAsync("group_update", ProtocolKit.Wait)).Str("action"));
            await sa.SendMessageAsync(gid, "welcome", "x3");
            var m = await sb.NextAsync("new_message", ProtocolKit.Wait);
            Assert.Equal(3, m.Long("seq"));
            (await sb.FenceAsync()).AssertNone("new_message");
        }
        await using var again = await server.ConnectReadyAsync(b.Token);
        (await again.FenceAsync()).AssertNone("new_message");
    }
}
