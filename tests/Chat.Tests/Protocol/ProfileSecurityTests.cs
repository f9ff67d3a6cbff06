using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Chat.Client;
using Chat.Tests.Cluster;
using Chat.Tests.Infrastructure;

namespace Chat.Tests.Protocol;

/// <summary>PROTOCOL.md v1.1 "People, groups, privacy": display name, password change, device names, signing other devices out.</summary>
public sealed class ProfileSecurityTests
{
    private static Task<ProtocolKit.Reply> PatchAsync(TestServer server, string path, object body, string token) =>
        server.CallAsync(HttpMethod.Patch, path, body, token);

    [Fact]
    public async Task Display_name_edit_strips_bidi_controls_and_refuses_empty_or_huge_names_without_changing_anything()
    {
        await using var server = await TestServer.StartAsync();
        var (_, me) = await server.NewUserAsync("pat");
        var (_, other) = await server.NewUserAsync("obs");

        var ok = await PatchAsync(server, "/api/users/me", new { display_name = "  Pat\u202E gnorw\u2066 \u0007Smith " }, me.Token);
        ok.AssertStatus(HttpStatusCode.OK);
        Assert.Equal("Pat gnorw Smith", ok.Body.Str("display_name"));
        Assert.Equal(me.UserId, ok.Body.Str("user_id"));
        Assert.Equal(me.Username, ok.Body.Str("username"));
        Assert.True(ok.Body.Long("created_at") > 0);
        // Everyone sees the new name.
        Assert.Equal("Pat gnorw Smith", (await server.GetAsync($"/api/users/{me.UserId}", other.Token)).Body.Str("display_name"));
        Assert.Equal("Pat gnorw Smith", (await server.GetAsync("/api/users/me", me.Token)).Body.Str("display_name"));

        foreach (string bad in new[] { "", "   ", "\u202E\u2066", new string('x', 65), new string('x', 10 * 1024) })
            (await PatchAsync(server, "/api/users/me", new { display_name = bad }, me.Token)).AssertError(HttpStatusCode.BadRequest, "invalid_request");
        (await PatchAsync(server, "/api/users/me", new { display_name = 42 }, me.Token)).AssertStatus(HttpStatusCode.BadRequest);
        Assert.Equal("Pat gnorw Smith", (await server.GetAsync("/api/users/me", me.Token)).Body.Str("display_name"));

        // 64 characters is the bound, inclusive; an absent display_name changes nothing.
        string max = new('y', 64);
        Assert.Equal(max, (await PatchAsync(server, "/api/users/me", new { display_name = max }, me.Token)).Body.Str("display_name"));
        Assert.Equal(max, (await PatchAsync(server, "/api/users/me", new { }, me.Token)).Body.Str("display_name"));
        (await server.CallAsync(HttpMethod.Patch, "/api/users/me", new { display_name = "x" }, null)).AssertError(HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task Password_change_needs_the_current_password_and_revokes_only_the_other_devices()
    {
        await using var server = await TestServer.StartAsync();
        var (_, me) = await server.NewUserAsync("pw");
        var (_, phone) = await server.LoginAsync(me.Username, "phone");
        var (_, tablet) = await server.LoginAsync(me.Username, "tablet");
        await using var mine = await server.ConnectReadyAsync(me.Token);
        await using var phoneSocket = await server.ConnectReadyAsync(phone.Token);
        await using var tabletSocket = await server.ConnectReadyAsync(tablet.Token);
        (await server.GetAsync("/api/users/me", phone.Token)).AssertStatus(HttpStatusCode.OK); // warm the token cache

        (await server.PostAsync("/api/auth/password", new { current_password = "wrong-password", new_password = "new-password-1" }, me.Token))
            .AssertError(HttpStatusCode.Unauthorized, "unauthorized");
        (await server.PostAsync("/api/auth/password", new { new_password = "new-password-1" }, me.Token))
            .AssertError(HttpStatusCode.Unauthorized, "unauthorized");
        (await server.PostAsync("/api/auth/password", new { current_password = "password123", new_password = "short" }, me.Token))
            .AssertError(HttpStatusCode.BadRequest, "invalid_request");
        // Nothing changed by the refusals: every device still works and the old password still signs in.
        (await server.GetAsync("/api/users/me", phone.Token)).AssertStatus(HttpStatusCode.OK);
        (await server.PostAsync("/api/auth/login", new { username = me.Username, password = "password123" }, null)).AssertStatus(HttpStatusCode.OK);

        (await server.PostAsync("/api/auth/password", new { current_password = "password123", new_password = "new-password-1" }, me.Token))
            .AssertStatus(HttpStatusCode.NoContent);
        Assert.Equal(4001, await phoneSocket.ClosedWithAsync());
        Assert.Equal(4001, await tabletSocket.ClosedWithAsync());
        (await server.GetAsync("/api/users/me", phone.Token)).AssertError(HttpStatusCode.Unauthorized, "unauthorized");
        (await server.GetAsync("/api/users/me", tablet.Token)).AssertError(HttpStatusCode.Unauthorized, "unauthorized");

        // The calling device stays signed in, alone.
        await mine.FenceAsync();
        Assert.Equal(WebSocketState.Open, mine.State);
        var devices = await server.GetAsync("/api/devices", me.Token);
        Assert.Equal([me.DeviceId], devices.Body.GetProperty("devices").EnumerateArray().Select(d => d.Str("device_id")!).ToArray());

        (await server.PostAsync("/api/auth/login", new { username = me.Username, password = "password123" }, null)).AssertError(HttpStatusCode.Unauthorized, "unauthorized");
        (await server.PostAsync("/api/auth/login", new { username = me.Username, password = "new-password-1" }, null)).AssertStatus(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Sign_out_others_keeps_this_device_and_devices_are_named_from_the_user_agent_and_renamable()
    {
        await using var server = await TestServer.StartAsync();
        var (_, me) = await server.NewUserAsync("dv");
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var req = new HttpRequestMessage(HttpMethod.Post, "/api/auth/login")
        {
            Content = JsonContent.Create(new { username = me.Username, password = "password123" }),
        };
        req.Headers.TryAddWithoutValidation("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0");
        using var res = await http.SendAsync(req);
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        var firefox = JsonDocument.Parse(await res.Content.ReadAsStringAsync()).RootElement;
        string firefoxId = firefox.Str("device_id")!, firefoxToken = firefox.Str("token")!;
        await using var firefoxSocket = await server.ConnectReadyAsync(firefoxToken);

        var listed = (await server.GetAsync("/api/devices", me.Token)).Body.GetProperty("devices").EnumerateArray().ToList();
        Assert.Equal("Firefox on Windows", listed.Single(d => d.Str("device_id") == firefoxId).Str("device_name"));

        // Rename: cleaned and bounded like display names; own live devices only.
        (await PatchAsync(server, $"/api/devices/{firefoxId}", new { device_name = " Work\u202E laptop " }, me.Token)).AssertStatus(HttpStatusCode.NoContent);
        listed = (await server.GetAsync("/api/devices", me.Token)).Body.GetProperty("devices").EnumerateArray().ToList();
        Assert.Equal("Work laptop", listed.Single(d => d.Str("device_id") == firefoxId).Str("device_name"));
        (await PatchAsync(server, $"/api/devices/{firefoxId}", new { device_name = new string('z', 10 * 1024) }, me.Token)).AssertError(HttpStatusCode.BadRequest, "invalid_request");
        (await PatchAsync(server, $"/api/devices/{firefoxId}", new { device_name = "" }, me.Token)).AssertError(HttpStatusCode.BadRequest, "invalid_request");
        (await PatchAsync(server, "/api/devices/no-such-device", new { device_name = "x" }, me.Token)).AssertError(HttpStatusCode.NotFound, "not_found");
        var (_, stranger) = await server.NewUserAsync("st");
        (await PatchAsync(server, $"/api/devices/{firefoxId}", new { device_name = "mine now" }, stranger.Token)).AssertError(HttpStatusCode.NotFound, "not_found");
        listed = (await server.GetAsync("/api/devices", me.Token)).Body.GetProperty("devices").EnumerateArray().ToList();
        Assert.Equal("Work laptop", listed.Single(d => d.Str("device_id") == firefoxId).Str("device_name"));

        (await server.PostAsync("/api/devices/sign-out-others", null, me.Token)).AssertStatus(HttpStatusCode.NoContent);
        Assert.Equal(4001, await firefoxSocket.ClosedWithAsync());
        (await server.GetAsync("/api/users/me", firefoxToken)).AssertError(HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Equal([me.DeviceId], (await server.GetAsync("/api/devices", me.Token)).Body.GetProperty("devices").EnumerateArray().Select(d => d.Str("device_id")!).ToArray());
        // Nothing left to sign out: still 204.
        (await server.PostAsync("/api/devices/sign-out-others", null, me.Token)).AssertStatus(HttpStatusCode.NoContent);
    }
}

/// <summary>A password change on one node closes the user's other sockets on another node.</summary>
public sealed class ClusterPasswordChangeTests
{
    [ClusterFact]
    public async Task Password_change_through_one_node_closes_the_other_devices_sockets_on_the_other_node()
    {
        await using var cluster = await TestCluster.StartAsync(2);
        var (_, me) = await cluster.NewUserAsync(0, "cpw");
        var (_, phone) = await cluster.Nodes[1].LoginAsync(me.Username, "phone");
        await using var phoneSocket = await cluster.ConnectReadyAsync(1, phone.Token);
        await using var mine = await cluster.ConnectReadyAsync(1, me.Token);
        (await cluster[1].GetAsync("/api/users/me", phone.Token)).AssertStatus(HttpStatusCode.OK); // warm node 1's token cache

        (await cluster[0].PostAsync("/api/auth/password", new { current_password = "password123", new_password = "new-password-1" }, me.Token))
            .AssertStatus(HttpStatusCode.NoContent);
        Assert.Equal(4001, await phoneSocket.ClosedWithAsync());
        await ProtocolKit.EventuallyAsync(async () => (await cluster[1].GetAsync("/api/users/me", phone.Token)).Status == HttpStatusCode.Unauthorized,
            "the revoked token is refused on the other node");
        await mine.FenceAsync();
        Assert.Equal(WebSocketState.Open, mine.State);
        (await cluster[1].PostAsync("/api/auth/login", new { username = me.Username, password = "new-password-1" }, null)).AssertStatus(HttpStatusCode.OK);
    }
}
