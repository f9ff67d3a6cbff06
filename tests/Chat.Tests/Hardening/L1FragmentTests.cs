using System.Net.WebSockets;
using System.Text;
using Chat.Tests.Infrastructure;
using Chat.Tests.Protocol;

namespace Chat.Tests.Hardening;

/// <summary>
/// Issue 17, frames that never end: a message may span at most Chat:Limits:MaxFragmentsPerMessage frames (one more
/// closes with 1009), and fragments of an unfinished message do not count as activity for the idle timer.
/// </summary>
public sealed class L1FragmentTests
{
    [Fact]
    public async Task Endless_empty_continuation_frames_are_closed_with_1009()
    {
        await using var server = await TestServer.StartAsync(("Chat:Limits:MaxFragmentsPerMessage", "50"));
        var (_, me) = await server.NewUserAsync();
        using var ws = await ConnectRawAsync(server, me.Token);

        // 200 fragments, four times the limit. Whether the client's sends fail once the server closes depends on
        // socket buffers (empty frames are 6 bytes), so the close code is what proves the limit, not the count sent.
        await SendEmptyFragmentsAsync(ws, 200, TimeSpan.Zero);
        Assert.Equal(1009, await CloseCodeAsync(ws));
    }

    [Fact]
    public async Task Fragments_of_an_unfinished_message_do_not_keep_a_socket_alive()
    {
        await using var server = await TestServer.StartAsync(("Chat:Gateway:IdleTimeoutSeconds", "2"));
        var (_, me) = await server.NewUserAsync();
        using var ws = await ConnectRawAsync(server, me.Token);

        // One empty fragment every 100 ms for up to 10 s: well under the fragment limit, but never a complete message.
        await SendEmptyFragmentsAsync(ws, 100, TimeSpan.FromMilliseconds(100));
        Assert.Equal(4002, await CloseCodeAsync(ws));
    }

    [Fact]
    public async Task A_message_in_a_few_fragments_is_still_handled()
    {
        await using var server = await TestServer.StartAsync(("Chat:Limits:MaxFragmentsPerMessage", "8"));
        var (_, me) = await server.NewUserAsync();
        using var ws = await ConnectRawAsync(server, me.Token);
        using var cts = new CancellationTokenSource(ProtocolKit.Wait);
        byte[] frame = Encoding.UTF8.GetBytes("""{"type":"heartbeat"}""");
        for (int i = 0; i < frame.Length; i += 5)
            await ws.SendAsync(frame.AsMemory(i, Math.Min(5, frame.Length - i)), WebSocketMessageType.Text, i + 5 >= frame.Length, cts.Token);
        var buffer = new byte[4096];
        var result = await ws.ReceiveAsync(buffer, cts.Token);
        Assert.Contains("heartbeat_ack", Encoding.UTF8.GetString(buffer, 0, result.Count), StringComparison.Ordinal);
    }

    private static async Task<ClientWebSocket> ConnectRawAsync(TestServer server, string token)
    {
        var ws = new ClientWebSocket();
        using var cts = new CancellationTokenSource(ProtocolKit.Wait);
        var uri = new UriBuilder(server.BaseAddress) { Scheme = "ws", Path = "/ws", Query = "token=" + Uri.EscapeDataString(token) }.Uri;
        await ws.ConnectAsync(uri, cts.Token);
        var buffer = new byte[64 * 1024];
        var result = await ws.ReceiveAsync(buffer, cts.Token);
        Assert.Contains("\"type\":\"ready\"", Encoding.UTF8.GetString(buffer, 0, result.Count), StringComparison.Ordinal);
        return ws;
    }

    /// <summary>Starts a text message and sends empty continuation frames until the server closes; returns how many went out.</summary>
    private static async Task<int> SendEmptyFragmentsAsync(ClientWebSocket ws, int count, TimeSpan pause)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        int sent = 0;
        try
        {
            for (; sent < count && ws.State == WebSocketState.Open; sent++)
            {
                await ws.SendAsync(ReadOnlyMemory<byte>.Empty, WebSocketMessageType.Text, false, cts.Token);
                if (pause > TimeSpan.Zero) await Task.Delay(pause, cts.Token);
                else if (sent % 100 == 99) await Task.Yield();
            }
        }
        catch (WebSocketException)
        {
        }
        catch (OperationCanceledException)
        {
        }
        return sent;
    }

    private static async Task<int?> CloseCodeAsync(ClientWebSocket ws)
    {
        using var cts = new CancellationTokenSource(ProtocolKit.Wait);
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                var result = await ws.ReceiveAsync(buffer, cts.Token);
                if (result.MessageType == WebSocketMessageType.Close) return (int?)ws.CloseStatus;
            }
        }
        catch (WebSocketException)
        {
            return (int?)ws.CloseStatus;
        }
    }
}
