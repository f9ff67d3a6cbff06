using Chat.Client;
using Chat.Core.Delivery;
using Chat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Chat.Tests.Durability;

/// <summary>Guarantee 4 (isolation): a device that stops reading is cut off and never slows the others.</summary>
public sealed class SlowConsumerTests
{
    [Fact]
    public async Task Stuck_reader_is_closed_while_others_keep_chatting_and_it_catches_up_on_reconnect()
    {
        await using var server = await TestServer.StartAsync(("Chat:Gateway:SendQueueFrames", "64"));
        var hub = server.Services.GetRequiredService<ConnectionHub>();
        var (alice, aliceAuth) = await server.NewUserAsync("alice");
        var (_, bobAuth) = await server.NewUserAsync("bob");
        var (carol, carolAuth) = await server.NewUserAsync("carol");
        var (_, daveAuth) = await server.NewUserAsync("dave");
        string toBob = (await alice.DirectChatAsync(bobAuth.UserId)).ChatId;
        string carolDave = (await carol.DirectChatAsync(daveAuth.UserId)).ChatId;

        await using var a = await server.ConnectReadyAsync(aliceAuth.Token);
        var b = await server.ConnectReadyAsync(bobAuth.Token, autoAck: false);
        await using var c = await server.ConnectReadyAsync(carolAuth.Token);
        await using var d = await server.ConnectReadyAsync(daveAuth.Token);
        b.Paused = true; // bob's app hangs: it stops reading its socket

        // Big messages fill bob's kernel buffers and then his bounded queue.
        string big = new('x', 16_000);
        int sentToBob = 0;
        for (; sentToBob < 2000 && hub.DevicesOf(new Chat.Core.Domain.UserId(bobAuth.UserId)).Length > 0; sentToBob++)
        {
            await a.SendMessageAsync(toBob, big, $"big{sentToBob}");
            // Meanwhile carol and dave keep chatting, unaffected.
            if (sentToBob % 50 == 0)
            {
                await c.SendMessageAsync(carolDave, $"hi {sentToBob}");
                var got = await d.NextAsync("new_message");
                Assert.Equal($"hi {sentToBob}", got.Str("content"));
            }
        }
        for (int i = 0; i < 300 && !hub.DevicesOf(new Chat.Core.Domain.UserId(bobAuth.UserId)).IsEmpty; i++) await Task.Delay(50);
        Assert.True(hub.DevicesOf(new Chat.Core.Domain.UserId(bobAuth.UserId)).IsEmpty, "the stuck socket was never closed");
        await b.DisposeAsync();

        await c.SendMessageAsync(carolDave, "still flowing");
        Assert.Equal("still flowing", (await d.NextAsync("new_message")).Str("content"));

        // Bob reconnects and gets every message he had not acked, in seq order, once.
        await using var b2 = await server.ConnectReadyAsync(bobAuth.Token);
        for (long seq = 1; seq <= sentToBob; seq++)
        {
            var m = await b2.NextAsync("new_message");
            Assert.Equal(seq, m.Long("seq"));
        }
    }
}
