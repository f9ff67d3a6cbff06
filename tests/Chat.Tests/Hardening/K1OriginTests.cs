using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Chat.Tests.Infrastructure;
using Chat.Tests.Protocol;

namespace Chat.Tests.Hardening;

/// <summary>
/// Issue 17 "Origin": <c>/ws</c> accepts only exact <c>Chat:AllowedOrigins</c> (default: the node's own origins and
/// <c>Chat:PublicUrl</c>), refusing others with 403 before the upgrade; a request without <c>Origin</c> still works.
/// </summary>
public sealed class K1OriginTests
{
    [Fact]
    public async Task Hostile_and_look_alike_origins_are_refused_with_403_and_a_body_before_the_upgrade()
    {
        await using var server = await TestServer.StartAsync();
        var (_, me) = await server.NewUserAsync();
        string own = Own(server);
        int port = server.BaseAddress.Port;
        foreach (string origin in new[]
        {
            "null", "file://", $"{own}.evil.example", $"http://localhost:{port}.evil.example", "http://evil.example",
            $"http://127.0.0.1:{port + 1}", $"https://127.0.0.1:{port}", $"{own}/", $"{own}:{port}", own.ToUpperInvariant(),
        })
        {
            var (status, raw) = await RawUpgradeAsync(server, me.Token, origin);
            Assert.True(status == 403, $"origin '{origin}': expected 403, got {status}: {raw}");
            Assert.Contains("\"code\":\"forbidden\"", raw, StringComparison.Ordinal);
            Assert.DoesNotContain("Sec-WebSocket-Accept", raw, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task The_nodes_own_origin_and_no_origin_at_all_are_accepted()
    {
        await using var server = await TestServer.StartAsync();
        var (_, me) = await server.NewUserAsync();
        Assert.Equal(101, (await RawUpgradeAsync(server, me.Token, origin: null)).Status);
        Assert.Equal(101, (await RawUpgradeAsync(server, me.Token, Own(server))).Status);
        await ConnectReadyWithOriginAsync(server, me.Token, Own(server));
        await using var plain = await server.ConnectReadyAsync(me.Token);
    }

    [Fact]
    public async Task PublicUrl_and_configured_origins_are_accepted_next_to_the_nodes_own()
    {
        await using var server = await TestServer.StartAsync(
            ("Chat:PublicUrl", "https://chat.example.com/"), ("Chat:AllowedOrigins:0", "https://app.example.com:443"),
            ("Chat:AllowedOrigins:1", "http://dev.example.com:8080"));
        var (_, me) = await server.NewUserAsync();
        foreach (string origin in new[] { "https://chat.example.com", "https://app.example.com", "http://dev.example.com:8080", Own(server) })
            await ConnectReadyWithOriginAsync(server, me.Token, origin);
        foreach (string origin in new[] { "http://chat.example.com", "https://app.example.com.evil.example", "http://dev.example.com" })
            Assert.Equal(403, (await RawUpgradeAsync(server, me.Token, origin)).Status);
    }

    private static string Own(TestServer server) => server.BaseAddress.GetLeftPart(UriPartial.Authority);

    private static async Task ConnectReadyWithOriginAsync(TestServer server, string token, string origin)
    {
        using var ws = new ClientWebSocket();
        ws.Options.SetRequestHeader("Origin", origin);
        using var cts = new CancellationTokenSource(ProtocolKit.Wait);
        var uri = new UriBuilder(server.BaseAddress) { Scheme = "ws", Path = "/ws", Query = "token=" + Uri.EscapeDataString(token) }.Uri;
        await ws.ConnectAsync(uri, cts.Token);
        var buffer = new byte[64 * 1024];
        var result = await ws.ReceiveAsync(buffer, cts.Token);
        Assert.Contains("\"type\":\"ready\"", Encoding.UTF8.GetString(buffer, 0, result.Count), StringComparison.Ordinal);
        await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", cts.Token);
    }

    /// <summary>A hand-written upgrade request on a raw socket, so the refusal's status and body can be read.</summary>
    private static async Task<(int Status, string Raw)> RawUpgradeAsync(TestServer server, string token, string? origin)
    {
        using var tcp = new TcpClient();
        using var cts = new CancellationTokenSource(ProtocolKit.Wait);
        await tcp.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port, cts.Token);
        var stream = tcp.GetStream();
        var request = new StringBuilder()
            .Append($"GET /ws?token={Uri.EscapeDataString(token)} HTTP/1.1\r\n")
            .Append($"Host: {server.BaseAddress.Authority}\r\n")
            .Append("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n")
            .Append($"Sec-WebSocket-Key: {Convert.ToBase64String(Guid.NewGuid().ToByteArray())}\r\n");
        if (origin is not null) request.Append($"Origin: {origin}\r\n");
        request.Append("\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request.ToString()), cts.Token);
        // Read until the headers end, then whatever body follows within a moment (a 101 has none).
        var buffer = new byte[16 * 1024];
        var text = new StringBuilder();
        while (true)
        {
            int n = await stream.ReadAsync(buffer, cts.Token);
            if (n == 0) break;
            text.Append(Encoding.UTF8.GetString(buffer, 0, n));
            string s = text.ToString();
            int end = s.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end < 0) continue;
            if (s.StartsWith("HTTP/1.1 101", StringComparison.Ordinal)) break;
            if (s.Contains('}', StringComparison.Ordinal)) break;
        }
        string raw = text.ToString();
        return (int.Parse(raw.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture), raw);
    }
}
