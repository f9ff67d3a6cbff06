using Chat.Client;
using Chat.Tests.Infrastructure;

namespace Chat.Tests.Protocol;

/// <summary>Two sockets on one token (two tabs of one browser) are one device: both stay in the live stream.</summary>
public sealed class SameDeviceTests
{
    [Fact]
    public async Task Second_socket_of_the_sending_device_keeps_receiving_after_its_device_sent()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, aliceAuth) = await server.NewUserAsync("alice");
        var (_, bobAuth) = await server.NewUserAsync("bob");
        string chatId = (await alice.DirectChatAsync(bobAuth.UserId)).ChatId;
        await using var tabA = await server.ConnectReadyAsync(aliceAuth.Token);
        await using var tabB = await server.ConnectReadyAsync(aliceAuth.Token);
        await using var bob = await server.ConnectReadyAsync(bobAuth.Token);

        await tabA.SendMessageAsync(chatId, "from tab A");           // seq 1, the device's own message
        Assert.Equal(1, (await bob.NextAsync("new_message")).Long("seq"));
        var reply = await bob.SendMessageAsync(chatId, "from bob");   // seq 2

        Assert.Equal(reply.Str("message_id"), (await tabA.NextAsync("new_message")).Str("message_id"));
        Assert.Equal(reply.Str("message_id"), (await tabB.NextAsync("new_message")).Str("message_id"));
    }
}
