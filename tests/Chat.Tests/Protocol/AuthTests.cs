using System.Net;
using System.Net.WebSockets;
using Chat.Client;
using Chat.Tests.Infrastructure;

namespace Chat.Tests.Protocol;

/// <summary>PROTOCOL.md "Auth and devices" and the WebSocket connect rules.</summary>
public sealed class AuthTests
{
    [Fact]
    public async Task Register_returns_201_with_the_contract_shape_and_enforces_username_and_password_rules()
    {
        await using var server = await TestServer.StartAsync();
        var ok = await server.PostAsync("/api/auth/register", new { username = "Alice.B-1_x", password = "password123", display_name = "Alice B", device_name = "phone" }, null);
        ok.AssertStatus(HttpStatusCode.Created);
        foreach (string field in new[] { "user_id", "username", "display_name", "device_id", "token" })
            Assert.False(string.IsNullOrEmpty(ok.Body.Str(field)), $"missing {field}: {ok.Body}");
        Assert.Equal("Alice B", ok.Body.Str("display_name"));
        Assert.Equal("alice.b-1_x", ok.Body.Str("username")!.ToLowerInvariant());
        Assert.DoesNotContain('_', ok.Body.Str("user_id")!);

        // Case-insensitive uniqueness.
        (await server.PostAsync("/api/auth/register", new { username = "ALICE.b-1_X", password = "password123" }, null))
            .AssertError(HttpStatusCode.Conflict, "conflict");

        // Username: 3-32 chars of [a-z0-9._-].
        foreach (string bad in new[] { "ab", new string('a', 33), "has space", "emoji😀x", "semi;colon", "slash/x", "" })
            (await server.PostAsync("/api/auth/register", new { username = bad, password = "password123" }, null))
                .AssertError(HttpStatusCode.BadRequest, "invalid_request");
        (await server.PostAsync("/api/auth/register", new { username = "abc", password = "password123" }, null)).AssertStatus(HttpStatusCode.Created);
        (await server.PostAsync("/api/auth/register", new { username = new string('b', 32), password = "password123" }, null)).AssertStatus(HttpStatusCode.Created);

        // Password: 8-128 chars.
        (await server.PostAsync("/api/auth/register", new { username = "pw1", password = "1234567" }, null)).AssertError(HttpStatusCode.BadRequest, "invalid_request");
        (await server.PostAsync("/api/auth/register", new { username = "pw2", password = new string('p', 129) }, null)).AssertError(HttpStatusCode.BadRequest, "invalid_request");
        (await server.PostAsync("/api/auth/register", new { username = "pw3", password = "12345678" }, null)).AssertStatus(HttpStatusCode.Created);
        (await server.PostAsync("/api/auth/register", new { username = "pw4", password = new string('p', 128) }, null)).AssertStatus(HttpStatusCode.Created);
        (await server.PostAsync("/api/auth/register", new { username = "pw5" }, null)).AssertError(HttpStatusCode.BadRequest, "invalid_request");

        // Not JSON at all.
        var garbage = await server.PostAsync("/api/auth/register", "{not json", null);
        Assert.Equal(HttpStatusCode.BadRequest, garbage.Status);
        Assert.Contains(garbage.Code, new[] { "invalid_json", "invalid_request" });
    }

    [Fact]
    public async Task Login_creates_a_new_device_each_time_and_fails_with_the_same_401_for_wrong_user_or_password()
    {
        await using var server = await TestServer.StartAsync();
        var (_, reg) = await server.NewUserAsync("carol");
        var first = await server.PostAsync("/api/auth/login", new { username = reg.Username.ToUpperInvariant(), password = "password123", device_name = "laptop" }, null);
        first.AssertStatus(HttpStatusCode.OK);
        var second = await server.PostAsync("/api/auth/login", new { username = reg.Username, password = "password123" }, null);
        second.AssertStatus(HttpStatusCode.OK);
        Assert.Equal(reg.UserId, first.Body.Str("user_id"));
        Assert.Equal(reg.Username, first.Body.Str("username"));
        Assert.Equal(reg.DisplayName, first.Body.Str("display_name"));
        var deviceIds = new[] { reg.DeviceId, first.Body.Str("device_id"), second.Body.Str("device_id") };
        Assert.Equal(3, deviceIds.Distinct().Count());
        Assert.Equal(3, new[] { reg.Token, first.Body.Str("token"), second.Body.Str("token") }.Distinct().Count());

        var devices = await server.GetAsync("/api/devices", reg.Token);
        devices.AssertStatus(HttpStatusCode.OK);
        var listed = devices.Body.GetProperty("devices").EnumerateArray().ToList();
        Assert.Equal(deviceIds.Order(), listed.Select(d => d.Str("device_id")).Order());
        var laptop = listed.Single(d => d.Str("device_id") == first.Body.Str("device_id"));
        Assert.Equal("laptop", laptop.Str("device_name"));
        Assert.True(laptop.Long("created_at") > 0);
        Assert.True(laptop.Long("last_active") > 0);
        Assert.False(laptop.GetProperty("online").GetBoolean());

        var wrongPassword = await server.PostAsync("/api/auth/login", new { username = reg.Username, password = "wrong-password" }, null);
        var wrongUser = await server.PostAsync("/api/auth/login", new { username = "nobody-here", password = "password123" }, null);
        wrongPassword.AssertError(HttpStatusCode.Unauthorized, "unauthorized");
        wrongUser.AssertError(HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Equal(wrongPassword.Body.Str("error"), wrongUser.Body.Str("error"));
    }

    [Fact]
    public async Task Rest_calls_need_a_valid_bearer_token()
    {
        await using var server = await TestServer.StartAsync();
        (await server.GetAsync("/api/users/me", null)).AssertError(HttpStatusCode.Unauthorized, "unauthorized");
        (await server.GetAsync("/api/users/me", "not-a-token")).AssertError(HttpStatusCode.Unauthorized, "unauthorized");
        (await server.GetAsync("/api/devices", "")).AssertError(HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task Logout_answers_204_kills_the_token_and_closes_that_devices_sockets_with_4001()
    {
        await using var server = await TestServer.StartAsync();
        var (_, reg) = await server.NewUserAsync("dave");
        var (_, other) = await server.LoginAsync(reg.Username, "tablet");
        await using var mine = await server.ConnectReadyAsync(reg.Token);
        await using var mine2 = await server.ConnectReadyAsync(reg.Token);
        await using var otherSocket = await server.ConnectReadyAsync(other.Token);

        (await server.GetAsync("/api/users/me", reg.Token)).AssertStatus(HttpStatusCode.OK); // warm any token cache
        var logout = await server.PostAsync("/api/auth/logout", null, reg.Token);
        logout.AssertStatus(HttpStatusCode.NoContent);

        Assert.Equal(4001, await mine.ClosedWithAsync());
        Assert.Equal(4001, await mine2.ClosedWithAsync());
        (await server.GetAsync("/api/users/me", reg.Token)).AssertError(HttpStatusCode.Unauthorized, "unauthorized");
        (await server.PostAsync("/api/auth/logout", null, reg.Token)).AssertError(HttpStatusCode.Unauthorized, "unauthorized");

        // The user's other device is untouched and no longer lists the revoked one.
        await otherSocket.FenceAsync();
        Assert.Equal(WebSocketState.Open, otherSocket.State);
        var devices = await server.GetAsync("/api/devices", other.Token);
        var ids = devices.Body.GetProperty("devices").EnumerateArray().Select(d => d.Str("device_id")).ToList();
        Assert.DoesNotContain(reg.DeviceId, ids);
        Assert.Contains(other.DeviceId, ids);
        Assert.True(devices.Body.GetProperty("devices").EnumerateArray().Single(d => d.Str("device_id") == other.DeviceId).GetProperty("online").GetBoolean());

        // A revoked token cannot open a socket: upgrade accepted, then 4001.
        await using var again = await server.ConnectAsync(reg.Token);
        Assert.Equal(4001, await again.ClosedWithAsync());
    }

    [Fact]
    public async Task Delete_device_revokes_own_devices_only_and_closes_the_revoked_socket_with_4001()
    {
        await using var server = await TestServer.StartAsync();
        var (_, a1) = await server.NewUserAsync("erin");
        var (_, a2) = await server.LoginAsync(a1.Username, "old phone");
        var (_, stranger) = await server.NewUserAsync("mallory");
        await using var s2 = await server.ConnectReadyAsync(a2.Token);
        await using var s1 = await server.ConnectReadyAsync(a1.Token);

        // Someone else's device: refused, nothing revoked.
        var foreign = await server.CallAsync(HttpMethod.Delete, $"/api/devices/{a2.DeviceId}", null, stranger.Token);
        Assert.Contains(foreign.Status, new[] { HttpStatusCode.NotFound, HttpStatusCode.Forbidden });
        (await server.GetAsync("/api/users/me", a2.Token)).AssertStatus(HttpStatusCode.OK);
        (await server.CallAsync(HttpMethod.Delete, "/api/devices/does-not-exist", null, a1.Token)).AssertError(HttpStatusCode.NotFound, "not_found");

        (await server.CallAsync(HttpMethod.Delete, $"/api/devices/{a2.DeviceId}", null, a1.Token)).AssertStatus(HttpStatusCode.NoContent);
        Assert.Equal(4001, await s2.ClosedWithAsync());
        (await server.GetAsync("/api/users/me", a2.Token)).AssertError(HttpStatusCode.Unauthorized, "unauthorized");
        await s1.FenceAsync();
        Assert.Equal(WebSocketState.Open, s1.State);
        var list = await server.GetAsync("/api/devices", a1.Token);
        Assert.Equal([a1.DeviceId], list.Body.GetProperty("devices").EnumerateArray().Select(d => d.Str("device_id")!).ToArray());
    }

    [Fact]
    public async Task WebSocket_auth_failures_are_accepted_then_closed_with_4001()
    {
        await using var server = await TestServer.StartAsync();
        var (_, alice) = await server.NewUserAsync("frank");
        var (_, bob) = await server.NewUserAsync("grace");

        await using var missing = await ChatSocket.ConnectAsync(server.BaseAddress, null);
        Assert.Equal(4001, await missing.ClosedWithAsync());
        await using var invalid = await ChatSocket.ConnectAsync(server.BaseAddress, "bogus-token");
        Assert.Equal(4001, await invalid.ClosedWithAsync());
        await using var mismatched = await ChatSocket.ConnectAsync(server.BaseAddress, alice.Token, extraQuery: "user_id=" + bob.UserId);
        Assert.Equal(4001, await mismatched.ClosedWithAsync());
        Assert.DoesNotContain(mismatched.Drain(), f => f.Type() == "ready");

        // The seed's user_id query parameter is accepted when it matches.
        await using var matching = await ChatSocket.ConnectAsync(server.BaseAddress, alice.Token, extraQuery: "user_id=" + alice.UserId);
        var ready = await matching.NextAsync("ready", ProtocolKit.Wait);
        Assert.Equal(alice.UserId, ready.Str("user_id"));

        // Authorization: Bearer works as well as ?token=.
        using var ws = new ClientWebSocket();
        ws.Options.SetRequestHeader("Authorization", "Bearer " + bob.Token);
        using var cts = new CancellationTokenSource(ProtocolKit.Wait);
        await ws.ConnectAsync(new Uri($"ws://{server.BaseAddress.Authority}/ws"), cts.Token);
        var buffer = new byte[4096];
        var result = await ws.ReceiveAsync(buffer, cts.Token);
        Assert.Equal(WebSocketMessageType.Text, result.MessageType);
        var frame = System.Text.Json.JsonDocument.Parse(buffer.AsMemory(0, result.Count)).RootElement;
        Assert.Equal("ready", frame.Type());
        Assert.Equal(bob.UserId, frame.Str("user_id"));
        Assert.Equal(bob.DeviceId, frame.Str("device_id"));
        await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "", cts.Token);
    }
}
