using System.Net.WebSockets;
using Chat.Client;
using Chat.Tests.Infrastructure;
using Chat.Tests.Protocol;

namespace Chat.Tests.Hardening;

/// <summary>Issue 17 / PROTOCOL.md operating additions: Chat:Limits:SocketsPerDevice (default 8); one more socket is closed with 4029.</summary>
public sealed class K2SocketsPerDeviceTests
{
    [Fact]
    public async Task One_socket_more_than_the_limit_for_a_device_token_is_closed_with_4029_and_the_others_keep_working()
    {
        await using var server = await TestServer.StartAsync();
        var (_, a) = await server.NewUserAsync();
        var (_, other) = await server.LoginAsync(a.Username); // another device of the same user
        var open = new List<ChatSocket>();
        try
        {
            for (int i = 0; i < 8; i++) open.Add(await server.ConnectReadyAsync(a.Token));

            await using var extra = await server.ConnectAsync(a.Token);
            Assert.Equal(4029, await extra.ClosedWithAsync());

            // The device's first eight sockets and the user's other device are unaffected.
            foreach (var s in open)
            {
                await s.FenceAsync();
                Assert.Equal(WebSocketState.Open, s.State);
            }
            await using var second = await server.ConnectReadyAsync(other.Token);
            await second.FenceAsync();

            // Room again once one of them closed.
            await open[0].CloseAsync();
            await open[0].DisposeAsync();
            open.RemoveAt(0);
            await ProtocolKit.EventuallyAsync(async () =>
            {
                await using var retry = await server.ConnectAsync(a.Token);
                try
                {
                    await retry.NextAsync("ready", TimeSpan.FromSeconds(2));
                    return retry.State == WebSocketState.Open;
                }
                catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
                {
                    return false;
                }
            }, "a ninth socket accepted after one of eight closed");
        }
        finally
        {
            foreach (var s in open) await s.DisposeAsync();
        }
    }
}
