using System.Net;
using Chat.Client;
using Chat.Tests.Protocol;
using Chat.Tests.Push;

namespace Chat.Tests.Cluster;

/// <summary>
/// Web Push in a cluster: each message is pushed by one node only, a device with a socket on any node is not pushed,
/// and the collapse window per (device, chat) holds across nodes (consecutive messages of a chat may be committed by
/// different nodes).
/// </summary>
public sealed class ClusterPushTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private PushServiceStandIn _push = null!;
    private TestCluster? _cluster;
    private TestCluster C => _cluster!;

    public async Task InitializeAsync()
    {
        _push = await PushServiceStandIn.StartAsync();
        if (ClusterBackends.SkipReason is not null) return;
        // The nodes share a data folder here, so they share the VAPID key the first node generates.
        _cluster = await TestCluster.StartAsync(3, ("Chat:Push:AllowInsecureEndpoints", "true"));
        var key = await C[0].GetAsync("/api/push/vapid-public-key", (await C.NewUserAsync(0)).Auth.Token);
        key.AssertStatus(HttpStatusCode.OK);
        _push.ServerPublicKey = key.Body.Str("public_key");
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
        await _push.DisposeAsync();
    }

    private async Task<TestSubscriber> SubscribeAsync(int node, string token)
    {
        var sub = _push.NewSubscriber();
        var reply = await C[node].PostAsync("/api/push/subscriptions",
            new { endpoint = sub.Endpoint, keys = new { p256dh = sub.P256dhB64, auth = sub.AuthB64 } }, token);
        reply.AssertStatus(HttpStatusCode.Created);
        return sub;
    }

    [ClusterFact]
    public async Task One_push_per_message_none_to_a_device_online_on_another_node_and_the_collapse_window_spans_nodes()
    {
        var (api0, alice) = await C.NewUserAsync(0, "alice");
        var (_, bob) = await C.NewUserAsync(1, "bob");
        var (_, carol) = await C.NewUserAsync(1, "carol");
        var (_, bobPhone) = await C[2].LoginAsync(bob.Username, "phone");
        var offline = await SubscribeAsync(0, bob.Token);
        var online = await SubscribeAsync(2, bobPhone.Token);
        await using var phone = await C.ConnectReadyAsync(2, bobPhone.Token);
        await using var a = await C.ConnectReadyAsync(0, alice.Token);
        await using var c = await C.ConnectReadyAsync(1, carol.Token);
        var group = await api0.CreateGroupAsync("push across nodes", [bob.UserId, carol.UserId]);

        var first = await a.SendMessageAsync(group.GroupId, "from node 0", timeout: Wait);
        var push = await _push.NextAsync(Wait);
        Assert.Equal(offline.Id, push.SubscriberId);
        Assert.Equal(first.Str("message_id"), push.Payload.Str("message_id"));

        // Carol's message is committed by node 1, inside the window node 0 opened: no second push.
        await c.SendMessageAsync(group.GroupId, "from node 1", timeout: Wait);

        // Fence: node 1 dispatches in commit order, so once its push for a later message arrives, the group message
        // was dispatched (or collapsed) too.
        var (_, fenceUser) = await C.NewUserAsync(1, "fence");
        var fence = await SubscribeAsync(1, fenceUser.Token);
        await c.SendMessageAsync(ProtocolKit.DirectId(carol.UserId, fenceUser.UserId), "fence", timeout: Wait);
        var seen = new List<ReceivedPush>();
        while (true)
        {
            var p = await _push.NextAsync(Wait);
            if (p.SubscriberId == fence.Id) break;
            seen.Add(p);
        }
        await Task.Delay(500); // pushes started before the fence's have had their loopback round trip
        seen.AddRange(_push.Drain());

        Assert.DoesNotContain(seen, p => p.SubscriberId == offline.Id);
        Assert.Equal(1, _push.Hits.GetValueOrDefault(offline.Id));
        Assert.Equal(0, _push.Hits.GetValueOrDefault(online.Id));
        Assert.Empty(_push.Rejected);
    }
}
