using Chat.Client;
using Chat.Core;
using Chat.Core.Delivery;
using Chat.Core.Domain;
using Chat.Protocol;
using Chat.Server.Connections;
using Chat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

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

    /// <summary>
    /// Issue 17: big frames made a laggard hold tens of MiB before the frame bound tripped, and it was reset instead of
    /// told 4008. The frame bound here is out of reach (more frames than the test sends), so only the byte bound can
    /// close bob; he resumes reading once he is marked slow, so the 4008 close frame reaches him.
    /// </summary>
    [Fact]
    public async Task Reader_of_big_frames_is_closed_by_the_byte_bound_with_4008_and_loses_nothing()
    {
        const int MaxMessages = 2000;
        await using var server = await TestServer.StartAsync(
            ("Chat:Gateway:SendQueueFrames", "100000"), ("Chat:Gateway:SendQueueBytes", "262144"));
        var hub = server.Services.GetRequiredService<ConnectionHub>();
        int maxContent = server.Services.GetRequiredService<IOptions<ChatOptions>>().Value.Limits.MaxContentBytes;
        var (alice, aliceAuth) = await server.NewUserAsync("alice");
        var (_, bobAuth) = await server.NewUserAsync("bob");
        var bobId = new UserId(bobAuth.UserId);
        string toBob = (await alice.DirectChatAsync(bobAuth.UserId)).ChatId;

        await using var a = await server.ConnectReadyAsync(aliceAuth.Token);
        var b = await server.ConnectReadyAsync(bobAuth.Token, autoAck: false);
        var bobSocket = Assert.IsType<DeviceConnection>(Assert.Single(hub.DevicesOf(bobId)));
        b.Paused = true; // bob's app hangs: it stops reading its socket

        string big = new('x', maxContent); // the largest message the contract allows
        int sent = 0;
        // Each send waits for its ack: alice (the sender) is never held up or refused because of bob.
        for (; sent < MaxMessages && !bobSocket.IsClosed; sent++) await a.SendMessageAsync(toBob, big, $"big{sent}");
        Assert.True(bobSocket.IsClosed, $"{sent} messages of {maxContent} bytes never tripped the 256 KiB byte bound");

        b.Paused = false; // reading again, bob takes what the kernel holds and then the close frame
        await b.Closed.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(CloseCodes.SlowConsumer, b.CloseCode);
        Assert.Equal(0, bobSocket.QueuedBytes); // what was queued was dropped, its bytes released
        await b.DisposeAsync();

        await a.SendMessageAsync(toBob, "after the close", "after");
        sent++;

        for (int i = 0; i < 300 && !hub.DevicesOf(bobId).IsEmpty; i++) await Task.Delay(50);
        await using var b2 = await server.ConnectReadyAsync(bobAuth.Token);
        for (long seq = 1; seq <= sent; seq++)
        {
            var m = await b2.NextAsync("new_message");
            Assert.Equal(seq, m.Long("seq"));
            Assert.Equal(seq == sent ? "after the close" : big, m.Str("content"));
        }
    }
}
