using System.Net.WebSockets;
using Chat.Client;
using Chat.Tests.Infrastructure;
using Chat.Tests.Protocol;

namespace Chat.Tests.Hardening;

/// <summary>Issue 17: Chat:Limits:SocketsPerUser caps one user's sockets across all devices (per node); one more is closed with 4029.</summary>
public sealed class K6SocketsPerUserTests
{
    [Fact]
    public async Task One_socket_more_than_the_user_limit_across_devices_is_closed_with_4029_and_other_users_are_unaffected()
    {
        await using var server = await TestServer.StartAsync(("Chat:Limits:SocketsPerUser", "3"));
        var (_, a) = await server.NewUserAsync();
        var (_, a2) = await server.LoginAsync(a.Username);
        var (_, a3) = await server.LoginAsync(a.Username);
        var (_, b) = await server.NewUserAsync();
        var open = new List<ChatSocket>();
        try
        {
            // Three sockets on three devices of the same user: each device is far below its own limit.
            open.Add(await server.ConnectReadyAsync(a.Token));
            open.Add(await server.ConnectReadyAsync(a2.Token));
            open.Add(await server.ConnectReadyAsync(a3.Token));

            await using var extra = await server.ConnectAsync(a.Token);
            Assert.Equal(4029, await extra.ClosedWithAsync());

            foreach (var s in open)
            {
                await s.FenceAsync();
                Assert.Equal(WebSocketState.Open, s.State);
            }
            await using var other = await server.ConnectReadyAsync(b.Token);
            await other.FenceAsync();
            Assert.Equal(WebSocketState.Open, other.State);
        }
        finally
        {
            foreach (var s in open) await s.DisposeAsync();
        }
    }
}
