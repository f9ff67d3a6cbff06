using Chat.Backplane.Redis;
using Chat.Core;
using Chat.Core.Delivery;
using Chat.Core.Presence;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Chat.Tests.Cluster;

/// <summary>
/// The Redis adapters on their own, against the real Redis: presence facts with TTL expiry (a node that dies leaves
/// nobody online) and the token bucket shared by two nodes. Each test uses a key prefix of its own.
/// </summary>
public sealed class RedisAdapterTests : IAsyncLifetime
{
    private readonly string _prefix = "t" + Guid.NewGuid().ToString("N")[..10];
    private readonly List<RedisConnection> _connections = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_connections.Count > 0)
        {
            var server = _connections[0].Multiplexer.GetServers()[0];
            await foreach (var key in server.KeysAsync(pattern: _prefix + ":*")) await _connections[0].Db.KeyDeleteAsync(key);
        }
        foreach (var c in _connections) c.Dispose();
    }

    private RedisConnection Connect(double ttlSeconds = 45)
    {
        var options = Options.Create(new RedisBackplaneOptions { KeyPrefix = _prefix, EntryTtlSeconds = ttlSeconds, RefreshSeconds = Math.Min(15, ttlSeconds / 3) });
        var c = new RedisConnection(ClusterBackends.RequireRedis(), options, NullLogger<RedisConnection>.Instance);
        _connections.Add(c);
        return c;
    }

    private static RedisPresenceStore Presence(RedisConnection c, double ttlSeconds = 45) =>
        new(c, new ConnectionHub(null!), Options.Create(new RedisBackplaneOptions { EntryTtlSeconds = ttlSeconds }), NullLogger<RedisPresenceStore>.Instance);

    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    [ClusterFact]
    public async Task Presence_counts_devices_across_nodes_and_keeps_the_last_status_and_last_seen()
    {
        var nodeA = Presence(Connect());
        var nodeB = Presence(Connect());
        string user = Guid.NewGuid().ToString("N");
        var f = await nodeA.SetDeviceAsync(user, "d1", away: false, Now, default);
        Assert.Equal((1, 1), (f.Connected, f.Active));
        f = await nodeB.SetDeviceAsync(user, "d2", away: true, Now, default);
        Assert.Equal((2, 1), (f.Connected, f.Active));
        f = await nodeA.RemoveDeviceAsync(user, "d1", Now, default);
        Assert.Equal((1, 0), (f.Connected, f.Active));
        long left = Now;
        f = await nodeB.RemoveDeviceAsync(user, "d2", left, default);
        Assert.Equal(0, f.Connected);
        Assert.Equal(PresenceStatus.Away, f.LastStatus);
        Assert.Equal(left, f.LastSeen);
        var read = (await nodeA.GetAsync([user, "nobody"], default)).ToList();
        Assert.Equal((0, left), (read[0].Connected, read[0].LastSeen));
        Assert.Equal((0, 0L), (read[1].Connected, read[1].LastSeen));
    }

    [ClusterFact]
    public async Task A_device_whose_node_stopped_refreshing_expires_and_last_seen_moves_to_its_last_refresh()
    {
        var alive = Presence(Connect(ttlSeconds: 1.5), ttlSeconds: 1.5);
        string user = Guid.NewGuid().ToString("N");
        long connectedAt = Now;
        await alive.SetDeviceAsync(user, "kept", away: false, connectedAt, default);
        await alive.SetDeviceAsync(user, "dead-node-device", away: false, connectedAt, default);
        // Only "kept" is refreshed (its node is alive); the other node died and refreshes nothing.
        for (int i = 0; i < 8; i++)
        {
            await Task.Delay(250);
            await alive.RefreshAsync([(user, "kept")], default);
        }
        var f = (await alive.GetAsync([user], default))[0];
        Assert.Equal(1, f.Connected);
        await Task.Delay(1700); // now "kept" is unrefreshed too
        f = (await alive.GetAsync([user], default))[0];
        Assert.Equal(0, f.Connected);
        Assert.Equal(PresenceStatus.Online, f.LastStatus);
        Assert.InRange(f.LastSeen, connectedAt + 1000, Now - 1000);
    }

    [ClusterFact]
    public async Task The_token_bucket_is_shared_by_all_nodes()
    {
        var chat = Options.Create(new ChatOptions { RateLimit = { MessagesPerMinute = 6 } });
        var a = new RedisRateLimiter(Connect(), chat, TimeProvider.System, NullLogger<RedisRateLimiter>.Instance);
        var b = new RedisRateLimiter(Connect(), chat, TimeProvider.System, NullLogger<RedisRateLimiter>.Instance);
        string user = Guid.NewGuid().ToString("N");
        int allowed = 0;
        for (int i = 0; i < 4; i++)
        {
            if ((await a.TryAcquireAsync(user, default)).Allowed) allowed++;
            if ((await b.TryAcquireAsync(user, default)).Allowed) allowed++;
        }
        Assert.Equal(6, allowed); // the burst, once, across both nodes
        var refused = await a.TryAcquireAsync(user, default);
        Assert.False(refused.Allowed);
        Assert.InRange(refused.RetryAfterMs, 1, 10_000); // one token every 10 s
        Assert.True((await b.TryAcquireAsync(Guid.NewGuid().ToString("N"), default)).Allowed); // other users unaffected
    }
}
