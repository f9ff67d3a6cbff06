using System.Text.Json.Nodes;
using Chat.Client;
using Chat.Tests.Infrastructure;

namespace Chat.Tests.Protocol;

/// <summary>PROTOCOL.md: ack → delivery_receipt, receipts, connect-time catch-up, new devices start caught up.</summary>
public sealed class DeliveryTests
{
    [Fact]
    public async Task Device_ack_sends_a_delivery_receipt_to_the_sender_and_moves_delivered_seq()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, a) = await server.NewUserAsync();
        var (_, b) = await server.NewUserAsync();
        string chat = ProtocolKit.DirectId(a.UserId, b.UserId);
        await using var sa = await server.ConnectReadyAsync(a.Token);
        await using var sb = await server.ConnectReadyAsync(b.Token, autoAck: false);

        var m1 = await sa.SendMessageAsync(chat, "one", "d1");
        var m2 = await sa.SendMessageAsync(chat, "two", "d2");
        await sb.NextAsync("new_message", ProtocolKit.Wait);
        await sb.NextAsync("new_message", ProtocolKit.Wait);
        // Bytes on a socket are not "delivered": only an ack is.
        (await sa.FenceAsync()).AssertNone("delivery_receipt");
        Assert.Equal(0, (await alice.ReceiptsAsync(chat)).Members.Single(m => m.UserId == b.UserId).DeliveredSeq);

        await sb.AckAsync(m2.Str("message_id")!); // cumulative: covers seq 1 too
        var receipt = await sa.NextAsync("delivery_receipt", ProtocolKit.Wait);
        Assert.Equal(chat, receipt.Str("chat_id"));
        Assert.Equal(m2.Str("message_id"), receipt.Str("message_id"));
        Assert.Equal(2, receipt.Long("seq"));
        Assert.Equal(b.UserId, receipt.Str("delivered_to"));
        _ = m1;

        await ProtocolKit.EventuallyAsync(async () =>
            (await alice.ReceiptsAsync(chat)).Members.Single(m => m.UserId == b.UserId).DeliveredSeq == 2, "receipts show delivered_seq 2");
        var receipts = await alice.ReceiptsAsync(chat);
        Assert.Equal(2, receipts.Members.Count);
        Assert.Equal(0, receipts.Members.Single(m => m.UserId == b.UserId).ReadSeq);

        // Acking an older message does not move anything back or send another receipt.
        await sb.AckAsync(m1.Str("message_id")!);
        await Task.Delay(400);
        (await sa.FenceAsync()).AssertNone("delivery_receipt");
        Assert.Equal(2, (await alice.ReceiptsAsync(chat)).Members.Single(m => m.UserId == b.UserId).DeliveredSeq);
    }

    private static async Task<long> DeliveredSeq(TestServer server, Chat.Protocol.AuthResponse user, string chat) =>
        (await server.GetAsync($"/api/chats/{chat}/receipts", user.Token)).Body.GetProperty("members").EnumerateArray()
            .Single(m => m.Str("user_id") == user.UserId).Long("delivered_seq");

    [Fact]
    public async Task Offline_device_gets_everything_unacked_on_connect_in_seq_order_and_acked_messages_are_not_pushed_again()
    {
        await using var server = await TestServer.StartAsync();
        var (_, a) = await server.NewUserAsync();
        var (_, b) = await server.NewUserAsync();
        var (_, c) = await server.NewUserAsync();
        string ab = ProtocolKit.DirectId(a.UserId, b.UserId);
        string cb = ProtocolKit.DirectId(c.UserId, b.UserId);

        // Bob's device exists and has been online once (so it is not "new" for what follows).
        await using (var first = await server.ConnectReadyAsync(b.Token)) { }

        await using (var sa = await server.ConnectReadyAsync(a.Token))
        await using (var sc = await server.ConnectReadyAsync(c.Token))
        {
            for (int i = 1; i <= 5; i++)
            {
                await sa.SendMessageAsync(ab, $"a{i}", $"a{i}");
                await sc.SendMessageAsync(cb, $"c{i}", $"c{i}");
            }
        }

        // Connect without acking: everything arrives, per chat in seq order.
        await using (var sb = await server.ConnectAsync(b.Token, autoAck: false))
        {
            var ready = await sb.NextAsync(_ => true, ProtocolKit.Wait);
            Assert.Equal("ready", ready.Type());
            var got = new List<System.Text.Json.JsonElement>();
            for (int i = 0; i < 10; i++) got.Add(await sb.NextAsync("new_message", ProtocolKit.Wait));
            Assert.Equal([1L, 2L, 3L, 4L, 5L], got.Where(f => f.Str("chat_id") == ab).Seqs());
            Assert.Equal([1L, 2L, 3L, 4L, 5L], got.Where(f => f.Str("chat_id") == cb).Seqs());
            Assert.Equal(["a1", "a2", "a3", "a4", "a5"], got.Where(f => f.Str("chat_id") == ab).Select(f => f.Str("content")));
            // Ack only up to seq 3 of the a-chat and all of the c-chat.
            await sb.AckAsync(got.First(f => f.Str("chat_id") == ab && f.Long("seq") == 3).Str("message_id")!);
            await sb.AckAsync(got.First(f => f.Str("chat_id") == cb && f.Long("seq") == 5).Str("message_id")!);
            await sb.FenceAsync();
        }
        // Acks take effect (receipts) within 250 ms.
        await ProtocolKit.EventuallyAsync(async () => await DeliveredSeq(server, b, ab) == 3 && await DeliveredSeq(server, b, cb) == 5, "delivered pointers 3 and 5");

        // Next connect: exactly what was not acked.
        await using (var sb = await server.ConnectReadyAsync(b.Token, autoAck: true))
        {
            var again = new List<System.Text.Json.JsonElement>
            {
                await sb.NextAsync("new_message", ProtocolKit.Wait),
                await sb.NextAsync("new_message", ProtocolKit.Wait),
            };
            Assert.All(again, f => Assert.Equal(ab, f.Str("chat_id")));
            Assert.Equal([4L, 5L], again.Seqs());
            (await sb.FenceAsync()).AssertNone("new_message");
        }

        // Reconnecting at once (acks possibly still being flushed) brings nothing again.
        await using (var sb = await server.ConnectReadyAsync(b.Token))
        {
            (await sb.FenceAsync()).AssertNone("new_message");
        }
        await ProtocolKit.EventuallyAsync(async () => await DeliveredSeq(server, b, ab) == 5, "delivered pointer 5");
    }

    [Fact]
    public async Task A_new_device_starts_caught_up_and_history_still_has_everything()
    {
        await using var server = await TestServer.StartAsync();
        var (_, a) = await server.NewUserAsync();
        var (_, b) = await server.NewUserAsync();
        string chat = ProtocolKit.DirectId(a.UserId, b.UserId);
        await using var sa = await server.ConnectReadyAsync(a.Token);
        for (int i = 1; i <= 3; i++) await sa.SendMessageAsync(chat, $"old{i}", $"old{i}");

        var (bobNew, bNew) = await server.LoginAsync(b.Username, "new phone");
        await using var sb = await server.ConnectReadyAsync(bNew.Token);
        (await sb.FenceAsync()).AssertNone("new_message");
        Assert.Equal(3, (await bobNew.HistoryAsync(chat)).Messages.Count);

        // Messages sent after the device was created are pushed.
        await sa.SendMessageAsync(chat, "new", "new1");
        var got = await sb.NextAsync("new_message", ProtocolKit.Wait);
        Assert.Equal(4, got.Long("seq"));

        // The old device, never connected and never acked, still gets all four.
        await using var old = await server.ConnectReadyAsync(b.Token);
        var owed = new List<long>();
        for (int i = 0; i < 4; i++) owed.Add((await old.NextAsync("new_message", ProtocolKit.Wait)).Long("seq"));
        Assert.Equal([1L, 2L, 3L, 4L], owed);
    }

    [Fact]
    public async Task Own_messages_are_not_pushed_back_to_the_sending_device_on_reconnect_but_reach_its_other_devices()
    {
        await using var server = await TestServer.StartAsync();
        var (_, a) = await server.NewUserAsync();
        var (_, a2) = await server.LoginAsync(a.Username, "tablet");
        var (_, b) = await server.NewUserAsync();
        string chat = ProtocolKit.DirectId(a.UserId, b.UserId);
        await using (var sa = await server.ConnectReadyAsync(a.Token))
        {
            await sa.SendMessageAsync(chat, "mine 1", "o1");
            await sa.SendMessageAsync(chat, "mine 2", "o2");
        }
        await using (var sb = await server.ConnectReadyAsync(b.Token))
        {
            Assert.Equal(1, (await sb.NextAsync("new_message", ProtocolKit.Wait)).Long("seq"));
            Assert.Equal(2, (await sb.NextAsync("new_message", ProtocolKit.Wait)).Long("seq"));
            await sb.SendMessageAsync(chat, "reply", "r1");
        }
        await using (var sa = await server.ConnectReadyAsync(a.Token))
        {
            // Only bob's reply: the device's own messages count as acknowledged by it.
            var got = await sa.NextAsync("new_message", ProtocolKit.Wait);
            Assert.Equal(3, got.Long("seq"));
            (await sa.FenceAsync()).AssertNone("new_message");
        }
        await using (var sa2 = await server.ConnectReadyAsync(a2.Token))
        {
            var got = new List<long>();
            for (int i = 0; i < 3; i++) got.Add((await sa2.NextAsync("new_message", ProtocolKit.Wait)).Long("seq"));
            Assert.Equal([1L, 2L, 3L], got);
        }
    }

    [Fact]
    public async Task Delivery_receipt_goes_to_senders_of_covered_messages_only_and_once_per_member()
    {
        await using var server = await TestServer.StartAsync();
        var (_, a) = await server.NewUserAsync();
        var (_, b) = await server.NewUserAsync();
        var (_, b2) = await server.LoginAsync(b.Username);
        string chat = ProtocolKit.DirectId(a.UserId, b.UserId);
        await using var sa = await server.ConnectReadyAsync(a.Token);
        await using var sb = await server.ConnectReadyAsync(b.Token, autoAck: false);
        await using var sb2 = await server.ConnectReadyAsync(b2.Token, autoAck: false);
        var m = await sa.SendMessageAsync(chat, "hi", "x1");
        await sb.NextAsync("new_message", ProtocolKit.Wait);
        await sb2.NextAsync("new_message", ProtocolKit.Wait);

        await sb.AckAsync(m.Str("message_id")!);
        var receipt = await sa.NextAsync("delivery_receipt", ProtocolKit.Wait);
        Assert.Equal(b.UserId, receipt.Str("delivered_to"));
        // Bob's second device acking the same message is not news: the member was already delivered to.
        await sb2.AckAsync(m.Str("message_id")!);
        await Task.Delay(400);
        (await sa.FenceAsync()).AssertNone("delivery_receipt");
        // Nobody else is told (bob sent nothing in that range).
        (await sb.FenceAsync()).AssertNone("delivery_receipt");
        (await sb2.FenceAsync()).AssertNone("delivery_receipt");
        await sa.SendAsync(new JsonObject { ["type"] = "heartbeat" });
    }
}
