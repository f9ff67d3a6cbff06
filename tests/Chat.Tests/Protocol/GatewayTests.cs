using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Chat.Client;
using Chat.Tests.Infrastructure;

namespace Chat.Tests.Protocol;

/// <summary>PROTOCOL.md "WebSocket": ready, heartbeat, bad frames (error frame, socket stays open), close codes.</summary>
public sealed class GatewayTests
{
    [Fact]
    public async Task Ready_comes_first_and_heartbeat_is_answered()
    {
        await using var server = await TestServer.StartAsync();
        var (_, me) = await server.NewUserAsync();
        await using var socket = await server.ConnectAsync(me.Token);
        long before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var first = await socket.NextAsync(_ => true, ProtocolKit.Wait);
        Assert.Equal("ready", first.Type());
        Assert.Equal(me.UserId, first.Str("user_id"));
        Assert.Equal(me.DeviceId, first.Str("device_id"));
        Assert.Equal(30000, first.Long("heartbeat_interval_ms"));
        Assert.InRange(first.Long("server_time"), before - 60_000, before + 60_000);

        await socket.SendRawAsync("""{"type":"heartbeat"}""");
        var hb = await socket.NextAsync("heartbeat_ack", ProtocolKit.Wait);
        Assert.InRange(hb.Long("server_time"), before - 60_000, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 60_000);
    }

    [Fact]
    public async Task Bad_frames_get_error_frames_and_the_socket_stays_open()
    {
        await using var server = await TestServer.StartAsync();
        var (api, me) = await server.NewUserAsync();
        var (_, bob) = await server.NewUserAsync();
        string chat = ProtocolKit.DirectId(me.UserId, bob.UserId);
        await using var s = await server.ConnectReadyAsync(me.Token);

        await s.SendRawAsync("this is not json");
        await s.ExpectErrorAsync("invalid_json");
        await s.SendRawAsync("{\"type\":\"new_message\",");
        await s.ExpectErrorAsync("invalid_json");
        await s.SendRawAsync("""{"type":"teleport","client_msg_id":"u1"}""");
        await s.ExpectErrorAsync("unknown_type", "u1");
        await s.SendRawAsync("""{"chat_id":"x"}""");
        await s.ExpectErrorAsync("invalid_request");

        // Missing fields.
        await s.SendRawAsync($$"""{"type":"new_message","content":"hi","client_msg_id":"m1"}""");
        await s.ExpectErrorAsync("invalid_request", "m1");
        await s.SendRawAsync($$"""{"type":"new_message","chat_id":"{{chat}}","content":"hi"}""");
        await s.ExpectErrorAsync("invalid_request");
        await s.SendRawAsync($$"""{"type":"new_message","chat_id":"{{chat}}","content":"hi","client_msg_id":""}""");
        await s.ExpectErrorAsync("invalid_request");
        await s.SendRawAsync($$"""{"type":"new_message","chat_id":"{{chat}}","content":"hi","client_msg_id":"{{new string('c', 65)}}"}""");
        await s.ExpectErrorAsync("invalid_request");
        await s.SendRawAsync($$"""{"type":"new_message","chat_id":"{{chat}}","client_msg_id":"m2"}""");
        await s.ExpectErrorAsync("invalid_request", "m2");
        await s.SendRawAsync("""{"type":"ack"}""");
        await s.ExpectErrorAsync("invalid_request");
        await s.SendRawAsync($$"""{"type":"read","chat_id":"{{chat}}"}""");
        await s.ExpectErrorAsync("invalid_request");
        await s.SendRawAsync("""{"type":"read","seq":1}""");
        await s.ExpectErrorAsync("invalid_request");
        await s.SendRawAsync("""{"type":"typing_start"}""");
        await s.ExpectErrorAsync("invalid_request");
        await s.SendRawAsync("""{"type":"set_status","status":"sleeping"}""");
        await s.ExpectErrorAsync("invalid_request");
        await s.SendRawAsync("""{"type":"presence_subscribe"}""");
        await s.ExpectErrorAsync("invalid_request");

        // Wrong types; client_msg_id is still echoed.
        await s.SendRawAsync($$"""{"type":"new_message","chat_id":42,"content":"hi","client_msg_id":"m3"}""");
        await s.ExpectErrorAsync("invalid_request", "m3");
        await s.SendRawAsync($$"""{"type":"new_message","chat_id":"{{chat}}","content":{"a":1},"client_msg_id":"m4"}""");
        await s.ExpectErrorAsync("invalid_request", "m4");
        await s.SendRawAsync($$"""{"type":"read","chat_id":"{{chat}}","seq":"five"}""");
        await s.ExpectErrorAsync("invalid_request");
        await s.SendRawAsync("""{"type":"presence_subscribe","user_ids":"abc"}""");
        await s.ExpectErrorAsync("invalid_request");
        await s.SendRawAsync("""{"type":7}""");
        await s.ExpectErrorAsync("invalid_request");
        await s.SendRawAsync("[1,2,3]");
        var notObject = await s.NextAsync("error", ProtocolKit.Wait);
        Assert.Contains(notObject.Str("code"), new[] { "invalid_json", "invalid_request" });

        // After all that the socket works normally and nothing was stored.
        var ack = await s.SendMessageAsync(chat, "still here", "ok1");
        Assert.Equal(1, ack.Long("seq"));
        Assert.Single((await api.HistoryAsync(chat)).Messages);
        Assert.Equal(WebSocketState.Open, s.State);
    }

    [Fact]
    public async Task Frame_of_exactly_64_KiB_is_handled_and_one_byte_more_closes_with_1009()
    {
        await using var server = await TestServer.StartAsync();
        var (_, me) = await server.NewUserAsync();
        await using var s = await server.ConnectReadyAsync(me.Token);

        string prefix = """{"type":"new_message","chat_id":"nochat","client_msg_id":"big","content":" """;
        string Frame(int total) => prefix + new string('x', total - prefix.Length - 2) + "\"}";
        string exact = Frame(64 * 1024);
        Assert.Equal(65536, Encoding.UTF8.GetByteCount(exact));
        await s.SendRawAsync(exact);
        await s.ExpectErrorAsync("content_too_large", "big"); // a real frame: the gateway parsed it

        try
        {
            await s.SendRawAsync(Frame(64 * 1024 + 1));
        }
        catch (WebSocketException)
        {
            // The server may cut the connection while the client is still writing.
        }
        Assert.Equal(1009, await s.ClosedWithAsync());
    }

    [Fact]
    public async Task Invalid_utf8_in_a_text_frame_closes_with_1007()
    {
        await using var server = await TestServer.StartAsync();
        var (_, me) = await server.NewUserAsync();
        await using var s = await server.ConnectReadyAsync(me.Token);
        byte[] bad = [.. Encoding.UTF8.GetBytes("""{"type":"heartbeat","x":" """), 0xC3, 0x28, 0xFF, .. Encoding.UTF8.GetBytes("\"}")];
        await s.SendBytesAsync(bad, WebSocketMessageType.Text);
        Assert.Equal(1007, await s.ClosedWithAsync());
    }

    [Fact]
    public async Task Silent_connection_is_closed_with_4002_and_heartbeats_keep_it_open()
    {
        await using var server = await TestServer.StartAsync(("Chat:Gateway:IdleTimeoutSeconds", "2"));
        var (_, me) = await server.NewUserAsync();
        await using var quiet = await server.ConnectReadyAsync(me.Token);
        await using var chatty = await server.ConnectReadyAsync(me.Token);

        // Heartbeats every 250 ms for 2.5 idle periods: the chatty socket must survive, the quiet one must not.
        for (int i = 0; i < 20; i++)
        {
            await chatty.SendAsync(new JsonObject { ["type"] = "heartbeat" });
            await chatty.NextAsync("heartbeat_ack", ProtocolKit.Wait);
            await Task.Delay(250);
        }
        Assert.Equal(WebSocketState.Open, chatty.State);
        Assert.Equal(4002, await quiet.ClosedWithAsync());
        Assert.Equal(4002, await chatty.ClosedWithAsync());
    }

    [Fact]
    public async Task Binary_frames_are_refused_with_an_error_and_the_socket_stays_open()
    {
        await using var server = await TestServer.StartAsync();
        var (_, me) = await server.NewUserAsync();
        await using var s = await server.ConnectReadyAsync(me.Token);
        await s.SendBytesAsync(Encoding.UTF8.GetBytes("""{"type":"heartbeat"}"""), WebSocketMessageType.Binary);
        var error = await s.NextAsync("error", ProtocolKit.Wait);
        Assert.Contains(error.Str("code"), new[] { "invalid_json", "invalid_request" });
        await s.FenceAsync();
        Assert.Equal(WebSocketState.Open, s.State);
    }
}
