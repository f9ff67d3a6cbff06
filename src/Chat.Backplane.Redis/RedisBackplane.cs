using Chat.Core.Caching;
using Chat.Core.Delivery;
using Chat.Core.Diagnostics;
using Chat.Core.Domain;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Chat.Backplane.Redis;

/// <summary>
/// The cluster backplane. Routing: each node records, per user, that it holds devices of that user (a ZSET of node ids
/// scored by expiry, refreshed periodically, so a dead node drops out by itself). A sender looks up the nodes of the
/// recipients (batched, cached briefly) and publishes ONE envelope per node on that node's channel, carrying the frame
/// bytes serialized once plus the recipients on that node. Broadcasts (presence, chat invalidation, device close) use
/// one shared channel. Pub/sub is best effort: the store and device pointers stay the truth, and a device that missed a
/// push catches up on its next seq gap or reconnect.
/// </summary>
public sealed partial class RedisBackplane : BackgroundService, IBackplane
{
    private readonly RedisConnection _redis;
    private readonly RedisKeys _keys;
    private readonly ConnectionHub _hub;
    private readonly RedisPresenceStore _presence;
    private readonly ChatMetrics _metrics;
    private readonly ILogger<RedisBackplane> _log;
    private readonly RedisBackplaneOptions _options;
    private readonly BoundedCache<UserId, Route> _routes;
    // Register/unregister of one user on this node must not interleave (an unregister could erase a fresh register).
    private readonly SemaphoreSlim[] _userLocks = Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1)).ToArray();
    private readonly SemaphoreSlim _refreshNow = new(0, 1);
    private readonly long _ttlMs;
    private readonly long _routeCacheMs;
    private volatile bool _restorePending;
    private volatile bool _subscribed;
    private readonly WarningThrottle _warnings = new();

    private sealed record Route(string[] Nodes, long ExpiresAtTicks);

    public RedisBackplane(
        RedisConnection redis, ConnectionHub hub, RedisPresenceStore presence, ChatMetrics metrics,
        IOptions<RedisBackplaneOptions> options, ILogger<RedisBackplane> log)
    {
        _redis = redis;
        _keys = redis.Keys;
        _hub = hub;
        _presence = presence;
        _metrics = metrics;
        _log = log;
        _options = options.Value;
        _ttlMs = (long)(_options.EntryTtlSeconds * 1000);
        _routeCacheMs = (long)(_options.RouteCacheSeconds * 1000);
        _routes = new BoundedCache<UserId, Route>("redis_routes", _options.RouteCacheEntries, metrics);
        redis.Restored += OnRestored;
    }

    public string NodeId => _redis.NodeId;

    // ---- IBackplane ------------------------------------------------------------------------------------------------

    public async ValueTask SendToUsersAsync(IReadOnlyCollection<UserId> userIds, OutboundEvent evt, CancellationToken ct)
    {
        // Devices on this node get the event straight away, without a round trip through Redis.
        _hub.DeliverLocal(userIds, evt);
        if (userIds.Count == 0 || !_redis.IsConnected) return;
        try
        {
            var byNode = await RouteAsync(userIds);
            if (byNode.Count == 0) return;
            var publishes = new List<Task>(byNode.Count);
            foreach (var (node, users) in byNode)
            {
                var envelope = new Envelope
                {
                    Kind = EnvelopeKind.Deliver,
                    Origin = NodeId,
                    Users = users,
                    ChatId = evt.ChatId,
                    DeviceId = evt.ExcludeDeviceId,
                    Number = evt.Seq,
                    Frame = evt.Payload,
                };
                publishes.Add(_redis.Subscriber.PublishAsync(_keys.NodeChannel(node), envelope.Encode()));
            }
            await Task.WhenAll(publishes);
            _metrics.BackplanePublished.Add(publishes.Count);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            WarnThrottled(ex);
        }
    }

    public async ValueTask CloseDeviceAsync(UserId userId, DeviceId deviceId, int closeCode, CancellationToken ct)
    {
        _hub.CloseLocal(deviceId, closeCode);
        // Broadcast, not routed: a revoked device must close wherever it is, even if the route cache is stale.
        await BroadcastAsync(new Envelope { Kind = EnvelopeKind.CloseDevice, Origin = NodeId, Users = [userId], DeviceId = deviceId, Number = closeCode });
    }

    public async ValueTask PublishPresenceAsync(UserId userId, ReadOnlyMemory<byte> presenceFrame, IReadOnlyCollection<UserId> hiddenFrom, CancellationToken ct)
    {
        _hub.PresenceLocal(userId, presenceFrame, hiddenFrom);
        // Users: the subject first, then the users it is hidden from.
        await BroadcastAsync(new Envelope { Kind = EnvelopeKind.Presence, Origin = NodeId, Users = [userId, .. hiddenFrom], Frame = presenceFrame });
    }

    public async ValueTask InvalidateChatAsync(ChatId chatId, CancellationToken ct)
    {
        _hub.InvalidateLocal(chatId);
        await BroadcastAsync(new Envelope { Kind = EnvelopeKind.InvalidateChat, Origin = NodeId, ChatId = chatId });
    }

    public async ValueTask RegisterAsync(UserId userId, DeviceId deviceId, CancellationToken ct)
    {
        var gate = LockOf(userId);
        await gate.WaitAsync(ct);
        try
        {
            if (!_redis.IsConnected) return; // the refresh after reconnect registers it
            var db = _redis.Db;
            long expires = NowMs() + _ttlMs;
            var key = _keys.Routes(userId.Value);
            await Task.WhenAll(db.SortedSetAddAsync(key, NodeId, expires), db.KeyExpireAsync(key, TimeSpan.FromMilliseconds(_ttlMs * 2)));
            // Other nodes may hold "this user has no device here" in their route cache: tell them to look again.
            await BroadcastAsync(new Envelope { Kind = EnvelopeKind.UserMoved, Origin = NodeId, Users = [userId] });
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            WarnThrottled(ex);
        }
        finally
        {
            gate.Release();
        }
    }

    public async ValueTask UnregisterAsync(UserId userId, DeviceId deviceId, CancellationToken ct)
    {
        var gate = LockOf(userId);
        await gate.WaitAsync(ct);
        try
        {
            // The hub already dropped this device; keep the route while another device of the user is still here.
            if (!_hub.DevicesOf(userId).IsEmpty || !_redis.IsConnected) return;
            await _redis.Db.SortedSetRemoveAsync(_keys.Routes(userId.Value), NodeId);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            WarnThrottled(ex);
        }
        finally
        {
            gate.Release();
        }
    }

    // ---- routing ---------------------------------------------------------------------------------------------------

    /// <summary>The other nodes holding devices of these users, each with the users it holds. One batched lookup for cache misses.</summary>
    private async Task<Dictionary<string, List<UserId>>> RouteAsync(IReadOnlyCollection<UserId> userIds)
    {
        long nowTicks = Environment.TickCount64;
        var byNode = new Dictionary<string, List<UserId>>(StringComparer.Ordinal);
        List<UserId>? misses = null;
        foreach (var user in userIds)
        {
            if (_routes.TryGetValue(user, out var r) && r.ExpiresAtTicks > nowTicks) Add(byNode, user, r.Nodes);
            else (misses ??= []).Add(user);
        }
        if (misses is not null)
        {
            var db = _redis.Db;
            double now = NowMs();
            var lookups = misses.ConvertAll(u => db.SortedSetRangeByScoreAsync(_keys.Routes(u.Value), now, double.PositiveInfinity));
            await Task.WhenAll(lookups);
            for (int i = 0; i < misses.Count; i++)
            {
                string[] nodes = Array.ConvertAll(lookups[i].Result, v => (string)v!);
                if (_routeCacheMs > 0) _routes.Set(misses[i], new Route(nodes, nowTicks + _routeCacheMs));
                Add(byNode, misses[i], nodes);
            }
        }
        return byNode;

        void Add(Dictionary<string, List<UserId>> map, UserId user, string[] nodes)
        {
            foreach (string node in nodes)
            {
                if (node == NodeId) continue; // delivered locally already
                if (!map.TryGetValue(node, out var list)) map[node] = list = [];
                list.Add(user);
            }
        }
    }

    private async ValueTask BroadcastAsync(Envelope envelope)
    {
        if (!_redis.IsConnected) return;
        try
        {
            await _redis.Subscriber.PublishAsync(_keys.Broadcast, envelope.Encode());
            _metrics.BackplanePublished.Add(1);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            WarnThrottled(ex);
        }
    }

    // ---- receiving -------------------------------------------------------------------------------------------------

    private async Task SubscribeAsync()
    {
        var sub = _redis.Subscriber;
        // ChannelMessageQueue hands messages over one at a time in arrival order, so a chat's events stay ordered.
        (await sub.SubscribeAsync(_keys.NodeChannel(NodeId))).OnMessage(OnMessage);
        (await sub.SubscribeAsync(_keys.Broadcast)).OnMessage(OnMessage);
        _subscribed = true;
    }

    private void OnMessage(ChannelMessage message)
    {
        try
        {
            var e = Envelope.Decode((byte[])message.Message!);
            if (e.Origin == NodeId) return; // our own broadcast: already applied locally
            _metrics.BackplaneReceived.Add(1);
            switch (e.Kind)
            {
                case EnvelopeKind.Deliver:
                    _hub.DeliverLocal(e.Users, new OutboundEvent(e.Frame, e.ChatId, e.Number, e.DeviceId));
                    break;
                case EnvelopeKind.CloseDevice when e.DeviceId is { } device:
                    _hub.CloseLocal(device, (int)e.Number);
                    break;
                case EnvelopeKind.Presence when e.Users.Count >= 1:
                    _hub.PresenceLocal(e.Users[0], e.Frame, e.Users.Count == 1 ? [] : e.Users.Skip(1).ToHashSet());
                    break;
                case EnvelopeKind.InvalidateChat when e.ChatId is { } chat:
                    _hub.InvalidateLocal(chat);
                    break;
                case EnvelopeKind.UserMoved:
                    foreach (var u in e.Users) _routes.TryRemove(u);
                    break;
            }
        }
        catch (Exception ex)
        {
            LogBadEnvelope(_log, ex);
        }
    }

    // ---- lifetime: subscribe, refresh registrations, restore after a Redis restart -------------------------------

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await SubscribeAsync();
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            WarnThrottled(ex); // retried by the loop below
        }
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var every = TimeSpan.FromSeconds(_options.RefreshSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Wake on the timer, or at once when the connection came back.
                await _refreshNow.WaitAsync(_subscribed ? every : TimeSpan.FromSeconds(1), stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            if (!_redis.IsConnected) continue;
            try
            {
                if (!_subscribed) await SubscribeAsync();
                bool restore = _restorePending;
                _restorePending = false;
                if (restore) _routes.Clear();
                await RefreshAsync(restore);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                WarnThrottled(ex);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Not Redis's own failure: logged, retried next round — a background loop that ends stops the host.
                LogRefreshFailed(_log, ex);
            }
        }
    }

    /// <summary>
    /// Re-writes the routes of every user with a device here and keeps this node's presence entries alive. After a
    /// Redis restart (<paramref name="restore"/>) the presence entries are re-created, since the new Redis is empty.
    /// </summary>
    private async Task RefreshAsync(bool restore)
    {
        var devices = _hub.All().Select(s => (UserId: s.UserId.Value, DeviceId: s.DeviceId.Value)).ToList();
        var db = _redis.Db;
        long expires = NowMs() + _ttlMs;
        var keyTtl = TimeSpan.FromMilliseconds(_ttlMs * 2);
        var work = new List<Task>();
        foreach (string user in devices.Select(d => d.UserId).Distinct(StringComparer.Ordinal))
        {
            var key = _keys.Routes(user);
            work.Add(db.SortedSetAddAsync(key, NodeId, expires));
            work.Add(db.KeyExpireAsync(key, keyTtl));
            // Drop entries of nodes that stopped refreshing (crashed), so the set stays small.
            work.Add(db.SortedSetRemoveRangeByScoreAsync(key, double.NegativeInfinity, NowMs(), Exclude.Stop));
            if (work.Count >= 3000)
            {
                await Task.WhenAll(work);
                work.Clear();
            }
        }
        await Task.WhenAll(work);
        await _presence.RefreshDevicesAsync(devices, upsert: restore, CancellationToken.None);
        if (restore) LogRestored(_log, devices.Count);
    }

    private void OnRestored()
    {
        _restorePending = true;
        _routes.Clear();
        try
        {
            _refreshNow.Release(); // at most one pending wake-up (max count 1)
        }
        catch (SemaphoreFullException)
        {
        }
    }

    public override void Dispose()
    {
        _redis.Restored -= OnRestored;
        base.Dispose();
    }

    private SemaphoreSlim LockOf(UserId userId) => _userLocks[(userId.GetHashCode() & int.MaxValue) % _userLocks.Length];

    private static long NowMs() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private void WarnThrottled(Exception ex)
    {
        if (_warnings.ShouldWarn()) LogRedisUnavailable(_log, ex);
    }

    [LoggerMessage(6101, LogLevel.Warning, "Redis unavailable for the backplane; events to other nodes are skipped and devices catch up from the store")]
    private static partial void LogRedisUnavailable(ILogger logger, Exception ex);

    [LoggerMessage(6109, LogLevel.Error, "Backplane refresh failed; retrying next round")]
    private static partial void LogRefreshFailed(ILogger logger, Exception ex);

    [LoggerMessage(6102, LogLevel.Warning, "Dropped an unreadable backplane envelope")]
    private static partial void LogBadEnvelope(ILogger logger, Exception ex);

    [LoggerMessage(6103, LogLevel.Information, "Re-registered {Count} local devices after the Redis connection came back")]
    private static partial void LogRestored(ILogger logger, int count);
}
