using System.Net;
using Chat.Client;
using Chat.Tests.Infrastructure;

namespace Chat.Tests.Protocol;

/// <summary>PROTOCOL.md "Users and presence" (REST).</summary>
public sealed class UsersTests
{
    [Fact]
    public async Task Me_user_and_lookup_by_username()
    {
        await using var server = await TestServer.StartAsync(("Chat:Presence:GraceSeconds", "1"));
        var reg = await server.PostAsync("/api/auth/register", new { username = "Zoe.Q", password = "password123", display_name = "Zoë" }, null);
        reg.AssertStatus(HttpStatusCode.Created);
        string zoeToken = reg.Body.Str("token")!, zoeId = reg.Body.Str("user_id")!;
        var (_, other) = await server.NewUserAsync();

        var me = await server.GetAsync("/api/users/me", zoeToken);
        me.AssertStatus(HttpStatusCode.OK);
        Assert.Equal(zoeId, me.Body.Str("user_id"));
        Assert.Equal("zoe.q", me.Body.Str("username"));
        Assert.Equal("Zoë", me.Body.Str("display_name"));
        Assert.True(me.Body.Long("created_at") > 0);

        var user = await server.GetAsync($"/api/users/{zoeId}", other.Token);
        user.AssertStatus(HttpStatusCode.OK);
        Assert.Equal(zoeId, user.Body.Str("user_id"));
        Assert.Equal("zoe.q", user.Body.Str("username"));
        Assert.Equal("Zoë", user.Body.Str("display_name"));
        Assert.Equal("offline", user.Body.Str("status"));
        Assert.True(user.Body.TryGetProperty("last_seen", out _));
        (await server.GetAsync("/api/users/nosuchuser", other.Token)).AssertError(HttpStatusCode.NotFound, "not_found");

        // Online while connected, with last_seen = now.
        await using (var s = await server.ConnectReadyAsync(zoeToken))
        {
            await s.FenceAsync();
            var online = await server.GetAsync($"/api/users/{zoeId}", other.Token);
            Assert.Equal("online", online.Body.Str("status"));
            Assert.InRange(online.Body.Long("last_seen"), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 5_000, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 5_000);
        }
        long left = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await ProtocolKit.EventuallyAsync(async () => (await server.GetAsync($"/api/users/{zoeId}", other.Token)).Body.Str("status") == "offline", "offline after grace");
        var offline = await server.GetAsync($"/api/users/{zoeId}", other.Token);
        Assert.InRange(offline.Body.Long("last_seen"), left - 5_000, left + 1_000);

        // Exact, case-insensitive username lookup; empty list when none; never a prefix match.
        foreach (string q in new[] { "zoe.q", "ZOE.Q", "Zoe.q" })
        {
            var found = await server.GetAsync($"/api/users?username={Uri.EscapeDataString(q)}", other.Token);
            found.AssertStatus(HttpStatusCode.OK);
            var u = Assert.Single(found.Body.GetProperty("users").EnumerateArray());
            Assert.Equal(zoeId, u.Str("user_id"));
            Assert.Equal("zoe.q", u.Str("username"));
            Assert.Equal("Zoë", u.Str("display_name"));
        }
        foreach (string q in new[] { "zoe", "zoe.q2", "nobody" })
        {
            var none = await server.GetAsync($"/api/users?username={q}", other.Token);
            none.AssertStatus(HttpStatusCode.OK);
            Assert.Empty(none.Body.GetProperty("users").EnumerateArray());
        }
        (await server.GetAsync("/api/users?username=zoe.q", null)).AssertError(HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task Presence_endpoint_answers_up_to_500_ids_and_400_beyond()
    {
        await using var server = await TestServer.StartAsync();
        var (_, a) = await server.NewUserAsync();
        var (_, b) = await server.NewUserAsync();
        await using var sb = await server.ConnectReadyAsync(b.Token);
        await sb.FenceAsync();

        var res = await server.GetAsync($"/api/presence?user_ids={a.UserId},{b.UserId}", a.Token);
        res.AssertStatus(HttpStatusCode.OK);
        var list = res.Body.GetProperty("presence").EnumerateArray().ToDictionary(p => p.Str("user_id")!);
        Assert.Equal("offline", list[a.UserId].Str("status"));
        Assert.Equal("online", list[b.UserId].Str("status"));
        Assert.True(list[b.UserId].Long("last_seen") > 0);
        _ = list[a.UserId].Long("last_seen");

        var ids = Enumerable.Range(0, 499).Select(i => $"u{i:D5}").Append(b.UserId).ToList();
        var five = await server.GetAsync($"/api/presence?user_ids={string.Join(',', ids)}", a.Token);
        five.AssertStatus(HttpStatusCode.OK);
        Assert.Equal(500, five.Body.GetProperty("presence").GetArrayLength());

        ids.Add("u99999");
        (await server.GetAsync($"/api/presence?user_ids={string.Join(',', ids)}", a.Token)).AssertError(HttpStatusCode.BadRequest, "invalid_request");
        (await server.GetAsync($"/api/presence?user_ids={b.UserId}", null)).AssertError(HttpStatusCode.Unauthorized, "unauthorized");
    }
}
