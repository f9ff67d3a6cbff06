using System.Text;
using Chat.Backplane.Redis;
using Chat.Core;
using Chat.Core.Chats;
using Chat.Core.Delivery;
using Chat.Core.Diagnostics;
using Chat.Core.Domain;
using Chat.Core.Storage;
using Chat.Storage.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Chat.Tests.Seams;

/// <summary>
/// What every backplane promises (src/Chat.Core/Delivery/Backplane.cs), checked with several simulated nodes in one
/// process: each node is a <see cref="ConnectionHub"/> with its own <see cref="MembershipCache"/> and backplane
/// instance, all over the same backplane (and the same store). Devices are <see cref="RecordingSink"/>s. An
/// implementation's subclass only says how many nodes it has and how to start one.
/// Pub/sub is asynchronous, so a test that checks that something did NOT arrive first sends a "barrier" through the
/// same path after it, waits for the barrier everywhere, and only then looks.
/// </summary>
public abstract class BackplaneContract : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "chat-seam-tests", Guid.NewGuid().ToString("N"));
    private readonly List<Node> _nodes = [];
    private SqliteChatStore _store = null!;
    private Probe _probe = null!;
    private int _barriers;

    /// <summary>One simulated server process.</summary>
    protected sealed record Node(int Index, ConnectionHub Hub, MembershipCache Membership, IBackplane Backplane);

    /// <summary>How many nodes share the backplane (1 for the in-process backplane).</summary>
    protected abstract int NodeCount { get; }

    /// <summary>Starts node <paramref name="index"/>'s backplane for its hub (subscribed and ready when this returns).</summary>
    protected abstract Task<IBackplane> StartBackplaneAsync(int index, ConnectionHub hub);

    /// <summary>Stops every backplane this instance started and removes what it left behind.</summary>
    protected virtual Task StopBackplanesAsync() => Task.CompletedTask;

    public async Task InitializeAsync()
    {
        _store = new SqliteChatStore(Path.Combine(_dir, "chat.db"));
        for (int i = 0; i < NodeCount; i++)
        {
            var membership = new MembershipCache(_store, _store, _store, Options.Create(new ChatOptions()), new ChatMetrics());
            var hub = NewHub(membership);
            _nodes.Add(new Node(i, hub, membership, await StartBackplaneAsync(i, hub)));
        }
        _probe = await Probe.ConnectAsync(this);
    }

    public async Task DisposeAsync()
    {
        await StopBackplanesAsync();
        _store.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    // ---- the helpers that know the shapes of ids, sinks and hubs (adapt here when those signatures change)

    private static ConnectionHub NewHub(MembershipCache membership) => new(membership);

    private static string NewUser() => Ids.NewId();

    /// <summary>Node <paramref name="i"/>, wrapping around: with one node every "node" is the same one.</summary>
    private Node N(int i) => _nodes[i % _nodes.Count];

    /// <summary>A device connects to a node as the server does it: into the hub, then registered on the backplane.</summary>
    private async Task<RecordingSink> ConnectAsync(Node node, string userId)
    {
        var sink = new RecordingSink(new UserId(userId), new DeviceId(Ids.NewId()));
        node.Hub.Add(sink);
        await node.Backplane.RegisterAsync(sink.UserId, sink.DeviceId, None);
        return sink;
    }

    /// <summary>A device leaves a node: out of the hub, then unregistered.</summary>
    private static async Task DisconnectAsync(Node node, RecordingSink sink)
    {
        node.Hub.Remove(sink);
        await node.Backplane.UnregisterAsync(sink.UserId, sink.DeviceId, None);
    }

    private static OutboundEvent Event(string text, DeviceId? excludeDevice = null) =>
        new(Encoding.UTF8.GetBytes(text), ExcludeDeviceId: excludeDevice);

    private static OutboundEvent Message(string chatId, long seq, DeviceId? excludeDevice = null) =>
        new(Encoding.UTF8.GetBytes($"{chatId[^6..]}#{seq}"), new ChatId(chatId), seq, excludeDevice);

    private static string Frame(string chatId, long seq) => $"{chatId[^6..]}#{seq}";

    private static Task SendAsync(Node from, OutboundEvent evt, params string[] users) => from.Backplane.SendToUsersAsync(UserId.From(users), evt, None).AsTask();

    private static ReadOnlyMemory<byte> PresenceFrame(string text) => Encoding.UTF8.GetBytes(text);

    private async Task<IReadOnlyList<string>> MembersAsync(Node node, string chatId) =>
        (await node.Membership.GetAsync(new ChatId(chatId), None))?.Members.Select(m => m.Value).ToList() ?? [];

    /// <summary>
    /// A user with one device on every node, subscribed on every node to its own presence: what it receives from a
    /// sender after an earlier operation of the same kind proves the earlier one has been applied everywhere.
    /// </summary>
    private sealed class Probe
    {
        public required string UserId { get; init; }
        public required List<RecordingSink> Devices { get; init; }

        public static async Task<Probe> ConnectAsync(BackplaneContract kit)
        {
            string user = NewUser();
            var devices = new List<RecordingSink>();
            foreach (var node in kit._nodes)
            {
                var d = await kit.ConnectAsync(node, user);
                node.Hub.Subscribe(new UserId(user), d);
                devices.Add(d);
            }
            return new Probe { UserId = user, Devices = devices };
        }
    }

    /// <summary>Deliveries sent from <paramref name="from"/> before this have reached every node.</summary>
    private async Task DeliveryBarrierAsync(Node from)
    {
        string mark = $"barrier-{Interlocked.Increment(ref _barriers)}";
        await SendAsync(from, Event(mark), _probe.UserId);
        await Eventually.TrueAsync(() => _probe.Devices.All(d => d.Has(mark)), $"{mark} delivered on every node");
    }

    /// <summary>Broadcasts (presence, device close, invalidation) sent from <paramref name="from"/> before this have reached every node.</summary>
    private async Task BroadcastBarrierAsync(Node from)
    {
        string mark = $"presence-barrier-{Interlocked.Increment(ref _barriers)}";
        await from.Backplane.PublishPresenceAsync(new UserId(_probe.UserId), PresenceFrame(mark), [], None);
        await Eventually.TrueAsync(() => _probe.Devices.All(d => d.Has(mark)), $"{mark} published on every node");
    }

    // ---- routing

    [SeamFact]
    public async Task Events_reach_every_device_of_the_addressed_users_on_every_node_but_not_the_excluded_device()
    {
        string u = NewUser(), v = NewUser(), bystander = NewUser();
        var u0 = await ConnectAsync(N(0), u);
        var u1 = await ConnectAsync(N(1), u);
        var u2 = await ConnectAsync(N(2), u);
        var v1 = await ConnectAsync(N(1), v);
        var b1 = await ConnectAsync(N(1), bystander);
        var b2 = await ConnectAsync(N(2), bystander);

        await SendAsync(N(0), Event("hello", excludeDevice: u1.DeviceId), u, v);
        await SendAsync(N(2), Event("to-v"), v);
        await DeliveryBarrierAsync(N(0));
        await DeliveryBarrierAsync(N(2));

        Assert.Equal(["hello"], u0.Frames);
        Assert.Empty(u1.Frames);
        Assert.Equal(["hello"], u2.Frames);
        Assert.Equal(["hello", "to-v"], v1.Frames);
        Assert.Empty(b1.Frames);
        Assert.Empty(b2.Frames);
        Assert.All([u0, u1, u2, v1, b1, b2], d => Assert.Null(d.ClosedWith));
    }

    [SeamFact]
    public async Task Message_events_keep_their_chat_and_seq_so_each_device_gets_every_seq_once_in_order()
    {
        string u = NewUser(), w = NewUser();
        string chat = ChatRef.Direct(u, w), other = Ids.NewId();
        var u0 = await ConnectAsync(N(0), u);
        var u2 = await ConnectAsync(N(2), u);
        var w1 = await ConnectAsync(N(1), w);

        // One sender node (as for the commits of one chat): its events arrive in the order it sent them, wherever
        // the devices are. (Across sender nodes there is no order; the device's cursor then resyncs from the store.)
        var from = N(1);
        await SendAsync(from, Message(chat, 1), u, w);
        await SendAsync(from, Message(chat, 2), u, w);
        await SendAsync(from, Message(chat, 2), u, w);    // a repeat: not pushed again
        await SendAsync(from, Message(other, 1), u);       // another chat has its own seq
        await SendAsync(from, Message(chat, 3, excludeDevice: u2.DeviceId), u, w);
        await DeliveryBarrierAsync(from);

        Assert.Equal([Frame(chat, 1), Frame(chat, 2), Frame(other, 1), Frame(chat, 3)], u0.Frames);
        Assert.Equal([Frame(chat, 1), Frame(chat, 2), Frame(other, 1)], u2.Frames);
        Assert.Equal([Frame(chat, 1), Frame(chat, 2), Frame(chat, 3)], w1.Frames);
        Assert.Equal(3, u0.Cursor.Pushed(new ChatId(chat)));
        Assert.Equal(1, u0.Cursor.Pushed(new ChatId(other)));
        Assert.Equal(2, u2.Cursor.Pushed(new ChatId(chat)));
    }

    [SeamFact]
    public async Task An_event_for_nobody_or_for_users_without_devices_is_no_error()
    {
        string offline = NewUser();
        await SendAsync(N(0), Event("void"));
        await SendAsync(N(1), Event("void"), offline);
        var later = await ConnectAsync(N(2), offline);
        await DeliveryBarrierAsync(N(1));
        Assert.Empty(later.Frames); // what was sent before it connected does not arrive afterwards
    }

    // ---- device close

    [SeamFact]
    public async Task Closing_a_device_closes_it_on_the_node_that_holds_it_and_no_other_device()
    {
        string u = NewUser();
        var u0 = await ConnectAsync(N(0), u);
        var u1 = await ConnectAsync(N(1), u);
        var u2 = await ConnectAsync(N(2), u);

        await N(1).Backplane.CloseDeviceAsync(new UserId(u), u2.DeviceId, 4003, None);
        await Eventually.TrueAsync(() => u2.ClosedWith is not null, "the device was closed");
        await BroadcastBarrierAsync(N(1));

        Assert.Equal(4003, u2.ClosedWith);
        Assert.Null(u0.ClosedWith);
        Assert.Null(u1.ClosedWith);
        Assert.All(_probe.Devices, d => Assert.Null(d.ClosedWith));

        // The node's own device closes at once, wherever the call comes from.
        await N(0).Backplane.CloseDeviceAsync(new UserId(u), u0.DeviceId, 4001, None);
        await Eventually.TrueAsync(() => u0.ClosedWith is not null, "the second device was closed");
        Assert.Equal(4001, u0.ClosedWith);
        Assert.Null(u1.ClosedWith);
    }

    // ---- presence

    [SeamFact]
    public async Task Presence_frames_reach_the_subscribers_of_that_user_on_every_node_and_only_them()
    {
        string subject = NewUser(), someoneElse = NewUser(), watcher = NewUser();
        var s0 = await ConnectAsync(N(0), watcher);
        var s1 = await ConnectAsync(N(1), watcher);
        var s2 = await ConnectAsync(N(2), watcher);
        var elsewhere = await ConnectAsync(N(1), watcher);
        var subjectDevice = await ConnectAsync(N(2), subject);
        N(0).Hub.Subscribe(new UserId(subject), s0);
        N(1).Hub.Subscribe(new UserId(subject), s1);
        N(2).Hub.Subscribe(new UserId(subject), s2);
        N(1).Hub.Subscribe(new UserId(someoneElse), elsewhere);

        await N(1).Backplane.PublishPresenceAsync(new UserId(subject), PresenceFrame("online"), [], None);
        await BroadcastBarrierAsync(N(1));
        Assert.Equal(["online"], s0.Frames);
        Assert.Equal(["online"], s1.Frames);
        Assert.Equal(["online"], s2.Frames);
        Assert.Empty(elsewhere.Frames);
        Assert.Empty(subjectDevice.Frames); // being connected is not subscribing

        N(2).Hub.Unsubscribe(new UserId(subject), s2);
        await N(0).Backplane.PublishPresenceAsync(new UserId(subject), PresenceFrame("away"), [], None);
        await BroadcastBarrierAsync(N(0));
        Assert.Equal(["online", "away"], s0.Frames);
        Assert.Equal(["online", "away"], s1.Frames);
        Assert.Equal(["online"], s2.Frames);
    }

    [SeamFact]
    public async Task Presence_frames_skip_the_users_they_are_hidden_from_on_every_node()
    {
        string subject = NewUser(), blocked = NewUser(), watcher = NewUser();
        var blocked0 = await ConnectAsync(N(0), blocked);
        var blocked2 = await ConnectAsync(N(2), blocked);
        var watcher2 = await ConnectAsync(N(2), watcher);
        N(0).Hub.Subscribe(new UserId(subject), blocked0);
        N(2).Hub.Subscribe(new UserId(subject), blocked2);
        N(2).Hub.Subscribe(new UserId(subject), watcher2);

        await N(1).Backplane.PublishPresenceAsync(new UserId(subject), PresenceFrame("online"), [new UserId(blocked)], None);
        await BroadcastBarrierAsync(N(1));
        Assert.Equal(["online"], watcher2.Frames);
        Assert.Empty(blocked0.Frames);
        Assert.Empty(blocked2.Frames);
    }

    // ---- chat cache invalidation

    [SeamFact]
    public async Task Invalidating_a_chat_makes_every_node_reload_its_members_and_only_that_chat()
    {
        string a = NewUser(), b = NewUser(), c = NewUser();
        string changed = Ids.NewId(), untouched = Ids.NewId();
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await _store.CreateGroupAsync(new GroupRecord(changed, "changed", "", a, now, [a, b], [a]), None);
        await _store.CreateGroupAsync(new GroupRecord(untouched, "untouched", "", a, now, [a, b], [a]), None);
        foreach (var node in _nodes)
        {
            Assert.Equal(new[] { a, b }.Order(StringComparer.Ordinal), (await MembersAsync(node, changed)).Order(StringComparer.Ordinal));
            Assert.Equal(2, (await MembersAsync(node, untouched)).Count);
        }

        Assert.Equal([c], await _store.AddMembersAsync(changed, [c], 100, now, None));
        Assert.Equal([c], await _store.AddMembersAsync(untouched, [c], 100, now, None));
        // The caches still hold the old members: this is what the invalidation is for.
        foreach (var node in _nodes) Assert.Equal(2, (await MembersAsync(node, changed)).Count);

        await N(1).Backplane.InvalidateChatAsync(new ChatId(changed), None);
        foreach (var node in _nodes)
            await Eventually.TrueAsync(async () => (await MembersAsync(node, changed)).Contains(c), $"node {node.Index} reloaded the members");
        await BroadcastBarrierAsync(N(1));
        foreach (var node in _nodes) Assert.Equal(2, (await MembersAsync(node, untouched)).Count);
    }

    // ---- register / unregister

    [SeamFact]
    public async Task A_users_remaining_device_on_a_node_still_gets_events_after_another_of_their_devices_there_left()
    {
        string u = NewUser();
        var leaving = await ConnectAsync(N(1), u);
        var staying = await ConnectAsync(N(1), u);
        await SendAsync(N(0), Event("both"), u);
        await DeliveryBarrierAsync(N(0));

        await DisconnectAsync(N(1), leaving);
        await SendAsync(N(0), Event("one"), u);
        await DeliveryBarrierAsync(N(0));

        Assert.Equal(["both"], leaving.Frames);
        Assert.Equal(["both", "one"], staying.Frames);
    }

    [SeamFact]
    public async Task A_user_who_moves_to_another_node_gets_events_there_and_the_old_device_gets_nothing_more()
    {
        string u = NewUser();
        var first = await ConnectAsync(N(1), u);
        await SendAsync(N(0), Event("before"), u); // the sender now knows where u was
        await DeliveryBarrierAsync(N(0));
        await DisconnectAsync(N(1), first);

        var moved = await ConnectAsync(N(2), u);
        // The sender learns about the move asynchronously; every send after it is seen must arrive.
        int attempt = 0;
        await Eventually.TrueAsync(async () =>
        {
            await SendAsync(N(0), Event($"after-{++attempt}"), u);
            return moved.Frames.Count > 0;
        }, "an event sent after the move arrived on the new node");
        await SendAsync(N(0), Event("last"), u);
        await DeliveryBarrierAsync(N(0));

        Assert.Equal(["before"], first.Frames);
        Assert.Equal("last", moved.Frames[^1]);
        Assert.All(moved.Frames, f => Assert.True(f == "last" || f.StartsWith("after-", StringComparison.Ordinal), f));

        // And back again, on both nodes at once: both devices get what follows.
        var back = await ConnectAsync(N(1), u);
        attempt = 0;
        await Eventually.TrueAsync(async () =>
        {
            await SendAsync(N(0), Event($"again-{++attempt}"), u);
            return back.Frames.Count > 0;
        }, "an event sent after the return arrived on the first node");
        await SendAsync(N(0), Event("final"), u);
        await DeliveryBarrierAsync(N(0));
        Assert.Equal("final", back.Frames[^1]);
        Assert.Equal("final", moved.Frames[^1]);
        Assert.Equal(["before"], first.Frames);
    }
}

/// <summary>The in-process backplane: one node, where every device is local.</summary>
public sealed class LocalBackplaneContractTests : BackplaneContract
{
    protected override int NodeCount => 1;

    protected override Task<IBackplane> StartBackplaneAsync(int index, ConnectionHub hub) => Task.FromResult<IBackplane>(new LocalBackplane(hub));
}

/// <summary>
/// The Redis backplane (CHAT_REDIS): three nodes in this process, each with its own multiplexer and node id, under a
/// key prefix of this test's own. The route cache is long here, so a test passes only if a move invalidates it.
/// </summary>
[RequiresRedis]
public sealed class RedisBackplaneContractTests : BackplaneContract
{
    private readonly string _prefix = RedisTestServer.NewPrefix("bp");
    private readonly List<(RedisConnection Connection, RedisBackplane Backplane)> _started = [];
    private readonly ChatMetrics _metrics = new();

    protected override int NodeCount => 3;

    protected override async Task<IBackplane> StartBackplaneAsync(int index, ConnectionHub hub)
    {
        var options = new RedisBackplaneOptions { KeyPrefix = _prefix, EntryTtlSeconds = 45, RefreshSeconds = 15, RouteCacheSeconds = 30 };
        var connection = RedisTestServer.Connect(options);
        var presence = new RedisPresenceStore(connection, hub, Options.Create(options), NullLogger<RedisPresenceStore>.Instance);
        var backplane = new RedisBackplane(connection, hub, presence, _metrics, Options.Create(options), NullLogger<RedisBackplane>.Instance);
        _started.Add((connection, backplane));
        await backplane.StartAsync(CancellationToken.None);
        return backplane;
    }

    protected override async Task StopBackplanesAsync()
    {
        foreach (var (_, backplane) in _started)
        {
            await backplane.StopAsync(CancellationToken.None);
            backplane.Dispose();
        }
        if (_started.Count > 0) await RedisTestServer.DeleteKeysAsync(_started[0].Connection, _prefix);
        foreach (var (connection, _) in _started) connection.Dispose();
        _metrics.Dispose();
    }
}
