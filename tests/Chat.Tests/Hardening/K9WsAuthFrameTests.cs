using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Chat.Client;
using Chat.Server.Connections;
using Chat.Tests.Infrastructure;
using Chat.Tests.Protocol;
using Microsoft.Extensions.DependencyInjection;

namespace Chat.Tests.Hardening;

/// <summary>
/// Issue 17 "Secrets in logs": a socket opened without a token in its URL authenticates with a first
/// <c>{"type":"auth","token":"…"}</c> frame (docs/api.md); bad, late or oversized first frames are closed like a bad
/// query token, unauthenticated sockets are capped per node, and <c>?token=</c> keeps working.
/// </summary>
public sealed partial class K9WsAuthFrameTests
{
    private static string AuthFrame(string token) => JsonSerializer.Serialize(new { type = "auth", token });

    private static async Task<ChatSocket> ConnectWithFrameAsync(TestServer server, string token, string? extraQuery = null)
    {
        var socket = await ChatSocket.ConnectAsync(server.BaseAddress, token: null, extraQuery: extraQuery);
        await socket.SendRawAsync(AuthFrame(token));
        return socket;
    }

    [Fact]
    public async Task An_auth_frame_authenticates_the_socket_ready_arrives_and_messages_flow_both_ways()
    {
        await using var server = await TestServer.StartAsync();
        var (_, a) = await server.NewUserAsync("k9a");
        var (_, b) = await server.NewUserAsync("k9b");
        await using var sa = await ConnectWithFrameAsync(server, a.Token);
        var ready = await sa.NextAsync("ready", ProtocolKit.Wait);
        Assert.Equal(a.UserId, ready.Str("user_id"));
        Assert.Equal(a.DeviceId, ready.Str("device_id"));
        await using var sb = await server.ConnectReadyAsync(b.Token);

        string chat = ProtocolKit.DirectId(a.UserId, b.UserId);
        var ack = await sa.SendMessageAsync(chat, "hello over an auth frame", timeout: ProtocolKit.Wait);
        var got = await sb.NextAsync(f => f.Type() == "new_message" && f.Str("message_id") == ack.Str("message_id"), ProtocolKit.Wait);
        Assert.Equal("hello over an auth frame", got.Str("content"));
        var back = await sb.SendMessageAsync(chat, "and back", timeout: ProtocolKit.Wait);
        await sa.NextAsync(f => f.Type() == "new_message" && f.Str("message_id") == back.Str("message_id"), ProtocolKit.Wait);

        // Presence sees the frame-authenticated device like any other.
        await sb.SendAsync(new JsonObject { ["type"] = "presence_subscribe", ["user_ids"] = new JsonArray(a.UserId) });
        var presence = await sb.NextAsync(f => f.Type() == "presence_update" && f.Str("user_id") == a.UserId, ProtocolKit.Wait);
        Assert.Equal("online", presence.Str("status"));
    }

    [Fact]
    public async Task A_wrong_or_revoked_token_a_mismatched_user_id_and_any_other_first_frame_are_closed_with_4001()
    {
        await using var server = await TestServer.StartAsync();
        var (_, a) = await server.NewUserAsync("k9bad");
        var (_, b) = await server.NewUserAsync("k9other");
        var (_, revoked) = await server.LoginAsync(a.Username, "old phone");
        (await server.PostAsync("/api/auth/logout", null, revoked.Token)).AssertStatus(HttpStatusCode.NoContent);

        var firstFrames = new[]
        {
            AuthFrame("bogus-token"), AuthFrame(revoked.Token), AuthFrame(""), """{"type":"auth"}""", """{"type":"auth","token":42}""",
            """{"type":"AUTH","token":"x"}""", """{"type":"heartbeat"}""", """{"token":"x"}""", "[]", "not json", "\"auth\"",
            JsonSerializer.Serialize(new { type = "new_message", chat_id = ProtocolKit.DirectId(a.UserId, b.UserId), content = "hi", client_msg_id = "k9" }),
        };
        foreach (string first in firstFrames)
        {
            await using var socket = await ChatSocket.ConnectAsync(server.BaseAddress, token: null);
            await socket.SendRawAsync(first);
            Assert.True(await socket.ClosedWithAsync() == 4001, $"first frame {first}: closed with {socket.CloseCode}");
            socket.Drain().AssertNone("ready");
        }

        // A binary first frame, even one holding a valid auth frame, is not an auth frame.
        await using (var binary = await ChatSocket.ConnectAsync(server.BaseAddress, token: null))
        {
            await binary.SendBytesAsync(Encoding.UTF8.GetBytes(AuthFrame(a.Token)), WebSocketMessageType.Binary);
            Assert.Equal(4001, await binary.ClosedWithAsync());
        }
        // The seed's user_id query parameter must match the frame's token too.
        await using (var mismatched = await ConnectWithFrameAsync(server, a.Token, extraQuery: "user_id=" + b.UserId))
        {
            Assert.Equal(4001, await mismatched.ClosedWithAsync());
            mismatched.Drain().AssertNone("ready");
        }
        await using var matching = await ConnectWithFrameAsync(server, a.Token, extraQuery: "user_id=" + a.UserId);
        await matching.NextAsync("ready", ProtocolKit.Wait);
    }

    [Fact]
    public async Task A_socket_that_sends_nothing_is_closed_with_4001_after_the_auth_timeout()
    {
        await using var server = await TestServer.StartAsync(("Chat:Gateway:AuthTimeoutSeconds", "1"));
        var (_, a) = await server.NewUserAsync("k9slow");
        await using var silent = await ChatSocket.ConnectAsync(server.BaseAddress, token: null);
        Assert.Equal(4001, await silent.ClosedWithAsync());
        silent.Drain().AssertNone("ready");

        // The start of a frame that never ends is silence too.
        using (var partial = await ConnectRawAsync(server))
        {
            await SendFragmentsAsync(partial, """{"type":"auth","token":""", 5, finish: false);
            Assert.Equal(4001, await CloseCodeAsync(partial));
        }

        // Within the timeout the same server accepts the frame, also when it comes in fragments.
        await using var prompt = await ConnectWithFrameAsync(server, a.Token);
        await prompt.NextAsync("ready", ProtocolKit.Wait);
        using var fragmented = await ConnectRawAsync(server);
        await SendFragmentsAsync(fragmented, AuthFrame(a.Token), 7, finish: true);
        var buffer = new byte[4096];
        using var cts = new CancellationTokenSource(ProtocolKit.Wait);
        var result = await fragmented.ReceiveAsync(buffer, cts.Token);
        Assert.Contains("\"type\":\"ready\"", Encoding.UTF8.GetString(buffer, 0, result.Count), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_auth_frame_above_4_KiB_is_closed_with_1009()
    {
        await using var server = await TestServer.StartAsync();
        await using var big = await ChatSocket.ConnectAsync(server.BaseAddress, token: null);
        await big.SendRawAsync(AuthFrame(new string('x', 5000)));
        Assert.Equal(1009, await big.ClosedWithAsync());

        // Just inside the bound it is read, and refused only for its (bogus) token.
        await using var inside = await ChatSocket.ConnectAsync(server.BaseAddress, token: null);
        string frame = AuthFrame(new string('x', 4096 - AuthFrame("").Length));
        Assert.Equal(4096, frame.Length);
        await inside.SendRawAsync(frame);
        Assert.Equal(4001, await inside.ClosedWithAsync());
    }

    [Fact]
    public async Task The_query_form_still_works_and_an_empty_query_token_is_refused_at_once_not_awaited()
    {
        // A long auth timeout: a socket that waited for a frame would outlive the test's wait.
        await using var server = await TestServer.StartAsync(("Chat:Gateway:AuthTimeoutSeconds", "600"));
        var (_, a) = await server.NewUserAsync("k9query");
        await using var query = await server.ConnectReadyAsync(a.Token);
        await query.FenceAsync();
        await using var empty = await ChatSocket.ConnectAsync(server.BaseAddress, token: "");
        Assert.Equal(4001, await empty.ClosedWithAsync());
    }

    [Fact]
    public async Task A_socket_still_waiting_for_its_frame_when_the_node_stops_is_closed_with_1001()
    {
        var server = await TestServer.StartAsync(("Chat:Gateway:AuthTimeoutSeconds", "600"));
        await using var waiting = await ChatSocket.ConnectAsync(server.BaseAddress, token: null);
        await ProtocolKit.EventuallyAsync(() => Task.FromResult(Gate(server).Pending == 1), "one socket pending");
        var stopping = server.DisposeAsync().AsTask();
        Assert.Equal(1001, await waiting.ClosedWithAsync());
        await stopping.WaitAsync(ProtocolKit.Wait);
    }

    [Fact]
    public async Task After_the_frame_the_socket_counts_against_the_device_limit_like_a_query_socket()
    {
        await using var server = await TestServer.StartAsync(("Chat:Limits:SocketsPerDevice", "1"));
        var (_, a) = await server.NewUserAsync("k9cap");
        await using var first = await server.ConnectReadyAsync(a.Token);
        await using var second = await ConnectWithFrameAsync(server, a.Token);
        Assert.Equal(4029, await second.ClosedWithAsync());
        await first.FenceAsync();
    }

    [Fact]
    public async Task Sockets_waiting_for_their_frame_are_capped_per_node_with_503_and_authenticated_ones_are_not_counted()
    {
        await using var server = await TestServer.StartAsync(("Chat:Gateway:MaxPendingAuthSockets", "2"));
        var (_, a) = await server.NewUserAsync("k9flood");
        await using var p1 = await ChatSocket.ConnectAsync(server.BaseAddress, token: null);
        await using var p2 = await ChatSocket.ConnectAsync(server.BaseAddress, token: null);
        await ProtocolKit.EventuallyAsync(() => Task.FromResult(Gate(server).Pending == 2), "two sockets pending");
        // Operators see them (the exporter caches a scrape briefly, hence the polling).
        using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = ProtocolKit.Wait };
        await ProtocolKit.EventuallyAsync(async () => PendingGauge().IsMatch(await http.GetStringAsync("/metrics")), "chat_connections_pending_auth 2");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, await RefusedUpgradeAsync(server));
        // Sockets with a token in the URL are not waiting for anything: still accepted.
        await using var query = await server.ConnectReadyAsync(a.Token);

        // Once one of the pending sockets authenticated, its place is free again.
        await p1.SendRawAsync(AuthFrame(a.Token));
        await p1.NextAsync("ready", ProtocolKit.Wait);
        await ProtocolKit.EventuallyAsync(() => Task.FromResult(Gate(server).Pending == 1), "one socket pending");
        await using var p3 = await ConnectWithFrameAsync(server, a.Token);
        await p3.NextAsync("ready", ProtocolKit.Wait);
        await p2.CloseAsync();
        await ProtocolKit.EventuallyAsync(() => Task.FromResult(Gate(server).Pending == 0), "no socket pending");
    }

    private static async Task<ClientWebSocket> ConnectRawAsync(TestServer server)
    {
        var ws = new ClientWebSocket();
        using var cts = new CancellationTokenSource(ProtocolKit.Wait);
        await ws.ConnectAsync(new Uri($"ws://{server.BaseAddress.Authority}/ws"), cts.Token);
        return ws;
    }

    /// <summary>Sends <paramref name="text"/> in frames of <paramref name="size"/> bytes; without the last one unless <paramref name="finish"/>.</summary>
    private static async Task SendFragmentsAsync(ClientWebSocket ws, string text, int size, bool finish)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        using var cts = new CancellationTokenSource(ProtocolKit.Wait);
        for (int i = 0; i < bytes.Length; i += size)
        {
            bool last = i + size >= bytes.Length;
            if (last && !finish) return;
            await ws.SendAsync(bytes.AsMemory(i, Math.Min(size, bytes.Length - i)), WebSocketMessageType.Text, last, cts.Token);
        }
    }

    private static async Task<int?> CloseCodeAsync(ClientWebSocket ws)
    {
        var buffer = new byte[4096];
        using var cts = new CancellationTokenSource(ProtocolKit.Wait);
        while ((await ws.ReceiveAsync(buffer, cts.Token)).MessageType != WebSocketMessageType.Close)
        {
        }
        return (int?)ws.CloseStatus;
    }

    [GeneratedRegex(@"^chat_connections_pending_auth(\{[^}]*\})? 2$", RegexOptions.Multiline)]
    private static partial Regex PendingGauge();

    private static AuthFrameGate Gate(TestServer server) => server.Services.GetRequiredService<AuthFrameGate>();

    private static async Task<HttpStatusCode> RefusedUpgradeAsync(TestServer server)
    {
        using var ws = new ClientWebSocket();
        ws.Options.CollectHttpResponseDetails = true;
        using var cts = new CancellationTokenSource(ProtocolKit.Wait);
        await Assert.ThrowsAsync<WebSocketException>(() => ws.ConnectAsync(new Uri($"ws://{server.BaseAddress.Authority}/ws"), cts.Token));
        return ws.HttpStatusCode;
    }
}
