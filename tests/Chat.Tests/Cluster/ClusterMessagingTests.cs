using System.Text.Json;
using System.Text.Json.Nodes;
using Chat.Client;

namespace Chat.Tests.Cluster;

/// <summary>Three nodes shared by the tests of this class (starting a cluster costs a few seconds).</summary>
public sealed class ThreeNodeCluster : IAsyncLifetime
{
    public TestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (ClusterBackends.SkipReason is not null) return;
        Cluster = await TestCluster.StartAsync(3);
    }

    public async Task DisposeAsync()
    {
        if (Cluster is not null) await Cluster.DisposeAsync();
    }
}

/// <summary>
/// The protocol across nodes (PostgreSQL + Redis): users connected to different nodes chat 1:1 and in groups, and
/// receipts, typing, presence, membership changes and device revocation reach them wherever they are connected.
/// </summary>
public sealed class ClusterMessagingTests(ThreeNodeCluster fixture) : IClassFixture<ThreeNodeCluster>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private TestCluster C => fixture.Cluster;

    private static string DirectChat(string a, string b) => string.CompareOrdinal(a, b) < 0 ? $"{a}_{b}" : $"{b}_{a}";

    [ClusterFact]
    public async Task Direct_chat_across_nodes_delivers_and_returns_delivery_and_read_receipts()
    {
        var (_, alice) = await C.NewUserAsync(0, "alice");
        var (_, bob) = await C.NewUserAsync(1, "bob");
        await using var a = await C.ConnectReadyAsync(0, alice.Token);
        await using var b = await C.ConnectReadyAsync(1, bob.Token);
        string chat = DirectChat(alice.UserId, bob.UserId);

        var ack = await a.SendMessageAsync(chat, "hello from node 0");
        var got = await b.NextAsync("new_message", Wait);
        Assert.Equal("hello from node 0", got.Str("content"));
        Assert.Equal(ack.Str("message_id"), got.Str("message_id"));
        Assert.Equal(1, got.Long("seq"));

        // bob's SDK acked it on node 1: alice (node 0) gets the delivery receipt.
        var delivered = await a.NextAsync("delivery_receipt", Wait);
        Assert.Equal(bob.UserId, delivered.Str("delivered_to"));
        Assert.Equal(1, delivered.Long("seq"));

        // And the other way round, with a read receipt.
        await b.SendAsync(new JsonObject { ["type"] = "read", ["chat_id"] = chat, ["seq"] = 1 });
        var read = await a.NextAsync("read_receipt", Wait);
        Assert.Equal(bob.UserId, read.Str("read_by"));
        Assert.Equal(1, read.Long("seq"));

        var reply = await b.SendMessageAsync(chat, "hi from node 1");
        var back = await a.NextAsync("new_message", Wait);
        Assert.Equal(reply.Str("message_id"), back.Str("message_id"));
        Assert.Equal(2, back.Long("seq"));
    }

    [ClusterFact]
    public async Task Group_messages_reach_members_on_every_node_in_seq_order_and_removal_applies_everywhere()
    {
        var (api0, u0) = await C.NewUserAsync(0, "g0");
        var (_, u1) = await C.NewUserAsync(1, "g1");
        var (_, u2) = await C.NewUserAsync(2, "g2");
        await using var s0 = await C.ConnectReadyAsync(0, u0.Token);
        await using var s1 = await C.ConnectReadyAsync(1, u1.Token);
        await using var s2 = await C.ConnectReadyAsync(2, u2.Token);

        var group = await api0.CreateGroupAsync("cluster group", [u1.UserId, u2.UserId]);
        foreach (var s in new[] { s1, s2 })
            Assert.Equal(group.GroupId, (await s.NextAsync("group_update", Wait)).Str("group_id"));

        // Members on nodes 1 and 2 send at the same time; everybody sees one gap-free seq order.
        for (int i = 0; i < 10; i++)
        {
            await s1.SendMessageFrameAsync(group.GroupId, $"n1-{i}", $"n1-{i}-{group.GroupId}");
            await s2.SendMessageFrameAsync(group.GroupId, $"n2-{i}", $"n2-{i}-{group.GroupId}");
        }
        for (int i = 0; i < 10; i++)
        {
            await s1.NextAsync("ack", Wait);
            await s2.NextAsync("ack", Wait);
        }
        var at0 = await ReceiveAsync(s0, group.GroupId, 20);
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), at0.Select(f => f.Long("seq")));
        // Each sender's other-node peers saw the other sender's 10 messages, in increasing seq.
        var at1 = await ReceiveAsync(s1, group.GroupId, 10);
        Assert.All(at1, f => Assert.StartsWith("n2-", f.Str("content")));
        Assert.True(at1.Select(f => f.Long("seq")).SequenceEqual(at1.Select(f => f.Long("seq")).Order()));

        // u2 (node 2) has the member list cached from sending; removal through node 0 must reach node 2's cache.
        await api0.RemoveMemberAsync(group.GroupId, u2.UserId);
        await s2.NextAsync(f => f.Type() == "group_update" && f.Str("action") == "member_removed", Wait);
        await s2.SendMessageFrameAsync(group.GroupId, "after removal", "removed-1");
        var err = await s2.NextAsync(f => f.Type() is "error" or "ack" && f.Str("client_msg_id") == "removed-1", Wait);
        Assert.Equal("error", err.Type());
        Assert.Equal("forbidden", err.Str("code"));
    }

    [ClusterFact]
    public async Task Typing_and_presence_cross_nodes_and_a_departed_user_goes_offline_after_the_grace()
    {
        var (_, alice) = await C.NewUserAsync(0, "pa");
        var (_, bob) = await C.NewUserAsync(2, "pb");
        string chat = DirectChat(alice.UserId, bob.UserId);
        await using var b = await C.ConnectReadyAsync(2, bob.Token);
        await b.SendAsync(new JsonObject { ["type"] = "presence_subscribe", ["user_ids"] = new JsonArray(alice.UserId) });
        var initial = await b.NextAsync("presence_update", Wait);
        Assert.Equal("offline", initial.Str("status"));

        var a = await C.ConnectReadyAsync(0, alice.Token);
        var online = await b.NextAsync(f => f.Type() == "presence_update" && f.Str("status") == "online", Wait);
        Assert.Equal(alice.UserId, online.Str("user_id"));
        // Any node answers presence from the shared state.
        var viaNode1 = await C.Api(1, bob.Token).PresenceAsync([alice.UserId]);
        Assert.Equal("online", viaNode1.Presence.Single().Status);

        await a.SendAsync(new JsonObject { ["type"] = "typing_start", ["chat_id"] = chat });
        var typing = await b.NextAsync("typing_start", Wait);
        Assert.Equal(alice.UserId, typing.Str("user_id"));

        await a.SendAsync(new JsonObject { ["type"] = "set_status", ["status"] = "away" });
        await b.NextAsync(f => f.Type() == "presence_update" && f.Str("status") == "away", Wait);

        // Closing the typer's socket stops its typing on the other node, then the user goes offline after the grace.
        await a.DisposeAsync();
        await b.NextAsync("typing_stop", Wait);
        var offline = await b.NextAsync(f => f.Type() == "presence_update" && f.Str("status") == "offline", Wait);
        Assert.True(offline.Long("last_seen") > 0);
    }

    [ClusterFact]
    public async Task A_presence_change_is_announced_even_when_another_node_announced_the_previous_one()
    {
        var (_, user) = await C.NewUserAsync(0, "pc");
        var (_, watcher) = await C.NewUserAsync(2, "pw");
        var (_, second) = await C.Nodes[0].LoginAsync(user.Username, "second");
        await using var w = await C.ConnectReadyAsync(2, watcher.Token);
        await w.SendAsync(new JsonObject { ["type"] = "presence_subscribe", ["user_ids"] = new JsonArray(user.UserId) });
        Assert.Equal("offline", (await w.NextAsync("presence_update", Wait)).Str("status"));

        var d1 = await C.ConnectReadyAsync(0, user.Token);       // node 0 announces "online"
        Assert.Equal("online", (await w.NextAsync("presence_update", Wait)).Str("status"));
        var d2 = await C.ConnectReadyAsync(1, second.Token);     // still online: nothing to announce
        await d1.DisposeAsync();
        await d2.DisposeAsync();                                  // node 1 sees the last device leave
        Assert.Equal("offline", (await w.NextAsync("presence_update", Wait)).Str("status"));
        // Node 0 announced "online" last itself; the user is back there and the change must still be announced.
        await using var d3 = await C.ConnectReadyAsync(0, user.Token);
        Assert.Equal("online", (await w.NextAsync("presence_update", Wait)).Str("status"));
    }

    [ClusterFact]
    public async Task A_device_that_moves_from_node_A_to_node_B_catches_up_without_gaps_and_then_gets_live_messages()
    {
        var (_, alice) = await C.NewUserAsync(0, "ma");
        var (_, bob) = await C.NewUserAsync(0, "mb");
        string chat = DirectChat(alice.UserId, bob.UserId);
        await using var a = await C.ConnectReadyAsync(2, alice.Token);

        // bob's device on node 0 receives 1..5 but acknowledges only up to 3.
        var onA = await C.ConnectReadyAsync(0, bob.Token, autoAck: false);
        var ids = new List<string>();
        for (int i = 1; i <= 5; i++) ids.Add((await a.SendMessageAsync(chat, $"m{i}")).Str("message_id")!);
        var first = await ReceiveAsync(onA, chat, 5);
        await onA.AckAsync(first[2].Str("message_id")!);
        await a.NextAsync(f => f.Type() == "delivery_receipt" && f.Long("seq") == 3, Wait); // the ack is durable
        await onA.DisposeAsync();

        // While the device is away: 6..10.
        for (int i = 6; i <= 10; i++) ids.Add((await a.SendMessageAsync(chat, $"m{i}")).Str("message_id")!);

        // The same device (same token) comes back on node 1: 4..10 exactly once, in order; then live traffic.
        await using var onB = await C.ConnectReadyAsync(1, bob.Token, autoAck: true);
        var caught = await ReceiveAsync(onB, chat, 7);
        Assert.Equal(Enumerable.Range(4, 7).Select(i => (long)i), caught.Select(f => f.Long("seq")));
        Assert.Equal(ids.Skip(3), caught.Select(f => f.Str("message_id")));
        var live = await a.SendMessageAsync(chat, "m11");
        var next = await onB.NextAsync("new_message", Wait);
        Assert.Equal(live.Str("message_id"), next.Str("message_id"));
        Assert.Equal(11, next.Long("seq"));
        await Task.Delay(300);
        Assert.DoesNotContain(onB.Drain(), f => f.Type() == "new_message");
    }

    [ClusterFact]
    public async Task Revoking_a_device_through_one_node_closes_its_socket_on_another_with_4001()
    {
        var (api, user) = await C.NewUserAsync(0, "rv");
        var (_, second) = await C.Nodes[0].LoginAsync(user.Username, "phone");
        var socket = await C.ConnectReadyAsync(2, second.Token);
        await api.RevokeDeviceAsync(second.DeviceId); // REST on node 0
        await socket.Closed.WaitAsync(Wait);
        Assert.Equal(4001, socket.CloseCode);
        await socket.DisposeAsync();
    }

    private static async Task<List<JsonElement>> ReceiveAsync(ChatSocket socket, string chatId, int count)
    {
        var list = new List<JsonElement>();
        while (list.Count < count) list.Add(await socket.NextAsync(f => f.Type() == "new_message" && f.Str("chat_id") == chatId, Wait));
        return list;
    }
}
