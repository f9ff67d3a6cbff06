using Chat.Core.Delivery;
using Chat.Core.Domain;
using Chat.Core.Presence;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Chat.Backplane.Redis;

/// <summary>
/// Presence facts in Redis, one hash per user: a field per connected device ("away|refreshedAt|node") plus the last-seen
/// time and the status the user had when their last device left. A device entry counts only while it was refreshed
/// within the TTL; nodes refresh their devices periodically and on heartbeats, so the devices of a node that died stop
/// counting by themselves (the scripts delete them and move last_seen to their last refresh).
/// Each operation is one Lua script on one key, so it is atomic and Redis Cluster friendly.
/// </summary>
public sealed partial class RedisPresenceStore(
    RedisConnection redis, ConnectionHub hub, IOptions<RedisBackplaneOptions> options, ILogger<RedisPresenceStore> log) : IPresenceStore
{
    // Shared by the scripts: counts live devices, deletes expired ones. ARGV[1] = now, ARGV[2] = device TTL (ms).
    private const string FactsLua = """
        local function facts(key, now, ttl)
          local all = redis.call('HGETALL', key)
          local connected, active, ls, st = 0, 0, 0, 'offline'
          local expiredLs, expiredActive, expired = 0, 0, 0
          for i = 1, #all, 2 do
            local f, v = all[i], all[i + 1]
            if f == '~ls' then ls = tonumber(v)
            elseif f == '~st' then st = v
            elseif f == '~pub' then
            else
              local away, at = string.match(v, '^(%d)|(%d+)')
              at = tonumber(at)
              if at + ttl < now then
                redis.call('HDEL', key, f)
                expired = expired + 1
                if at > expiredLs then expiredLs = at end
                if away == '0' then expiredActive = expiredActive + 1 end
              else
                connected = connected + 1
                if away == '0' then active = active + 1 end
              end
            end
          end
          if expired > 0 then
            if expiredLs > ls then ls = expiredLs; redis.call('HSET', key, '~ls', ls) end
            if connected == 0 then
              if expiredActive > 0 then st = 'online' else st = 'away' end
              redis.call('HSET', key, '~st', st)
            end
          end
          return {connected, active, ls, st}
        end
        """;

    // KEYS[1] presence hash; ARGV: now, ttl, keyTtl, device field, value.
    private const string SetLua = FactsLua + "\n" + """
        redis.call('HSET', KEYS[1], ARGV[4], ARGV[5], '~ls', ARGV[1])
        redis.call('PEXPIRE', KEYS[1], ARGV[3])
        return facts(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))
        """;

    // The status a user had while their devices were connected is kept for the grace period (no flicker on reconnect).
    private const string RemoveLua = FactsLua + "\n" + """
        local now, ttl = tonumber(ARGV[1]), tonumber(ARGV[2])
        local f = facts(KEYS[1], now, ttl)
        if f[1] > 0 then
          local st = 'away'
          if f[2] > 0 then st = 'online' end
          redis.call('HSET', KEYS[1], '~st', st)
        end
        if redis.call('HDEL', KEYS[1], ARGV[4]) == 1 then redis.call('HSET', KEYS[1], '~ls', ARGV[1]) end
        redis.call('PEXPIRE', KEYS[1], ARGV[3])
        return facts(KEYS[1], now, ttl)
        """;

    private const string GetLua = FactsLua + "\n" + """
        return facts(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))
        """;

    // Refresh: bumps refreshedAt of an existing entry; with ARGV[5]=1 (after a Redis restart) re-creates a missing one.
    private const string RefreshLua = """
        local v = redis.call('HGET', KEYS[1], ARGV[4])
        if v then
          local away, at, node = string.match(v, '^(%d)|(%d+)|(.*)$')
          redis.call('HSET', KEYS[1], ARGV[4], away .. '|' .. ARGV[1] .. '|' .. node)
          redis.call('PEXPIRE', KEYS[1], ARGV[3])
        elseif ARGV[5] == '1' then
          redis.call('HSET', KEYS[1], ARGV[4], '0|' .. ARGV[1] .. '|' .. ARGV[6])
          redis.call('PEXPIRE', KEYS[1], ARGV[3])
        end
        return 1
        """;

    // KEYS[1] presence hash; ARGV[1] status. The last announced status lives with the facts, shared by every node.
    private const string AnnounceLua = """
        if redis.call('HGET', KEYS[1], '~pub') == ARGV[1] then return 0 end
        redis.call('HSET', KEYS[1], '~pub', ARGV[1])
        return 1
        """;

    // last_seen outlives the devices: keep the hash a month after the last write.
    private static readonly long KeyTtlMs = (long)TimeSpan.FromDays(30).TotalMilliseconds;
    private readonly long _ttlMs = (long)(options.Value.EntryTtlSeconds * 1000);
    private readonly WarningThrottle _warnings = new();

    public async ValueTask<PresenceFacts> SetDeviceAsync(string userId, string deviceId, bool away, long now, CancellationToken ct)
    {
        try
        {
            var r = await redis.Db.ScriptEvaluateAsync(SetLua, [redis.Keys.Presence(userId)],
                [now, _ttlMs, KeyTtlMs, Field(deviceId), $"{(away ? 1 : 0)}|{now}|{redis.NodeId}"]);
            return ToFacts(userId, r);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            Warn(ex);
            int here = hub.DevicesOf(new UserId(userId)).Length;
            return new PresenceFacts(userId, Math.Max(here, 1), away ? 0 : 1, now, PresenceStatus.Offline);
        }
    }

    public async ValueTask<PresenceFacts> RemoveDeviceAsync(string userId, string deviceId, long now, CancellationToken ct)
    {
        try
        {
            var r = await redis.Db.ScriptEvaluateAsync(RemoveLua, [redis.Keys.Presence(userId)],
                [now, _ttlMs, KeyTtlMs, Field(deviceId)]);
            return ToFacts(userId, r);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            Warn(ex);
            int here = hub.DevicesOf(new UserId(userId)).Length;
            return new PresenceFacts(userId, here, here, now, PresenceStatus.Online);
        }
    }

    public async ValueTask<IReadOnlyList<PresenceFacts>> GetAsync(IReadOnlyCollection<string> userIds, CancellationToken ct)
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var ids = userIds.ToList();
        try
        {
            var db = redis.Db;
            // One round trip: the scripts are pipelined by the multiplexer.
            var calls = ids.ConvertAll(u => db.ScriptEvaluateAsync(GetLua, [redis.Keys.Presence(u)], [now, _ttlMs]));
            await Task.WhenAll(calls);
            return ids.Select((u, i) => ToFacts(u, calls[i].Result)).ToList();
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Without Redis only this node's own devices are known.
            Warn(ex);
            return ids.ConvertAll(u =>
            {
                int here = hub.DevicesOf(new UserId(u)).Length;
                return new PresenceFacts(u, here, here, here > 0 ? now : 0, PresenceStatus.Offline);
            });
        }
    }

    public async ValueTask<bool> TryMarkAnnouncedAsync(string userId, string status, CancellationToken ct)
    {
        try
        {
            return (int)await redis.Db.ScriptEvaluateAsync(AnnounceLua, [redis.Keys.Presence(userId)], [status]) == 1;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            Warn(ex);
            return true; // announcing twice is harmless; missing a change is not
        }
    }

    public ValueTask RefreshAsync(IReadOnlyCollection<(string UserId, string DeviceId)> devices, CancellationToken ct) =>
        new(RefreshDevicesAsync(devices, upsert: false, ct));

    /// <summary>Keeps devices alive; <paramref name="upsert"/> re-creates entries a restarted Redis lost.</summary>
    public async Task RefreshDevicesAsync(IReadOnlyCollection<(string UserId, string DeviceId)> devices, bool upsert, CancellationToken ct)
    {
        if (devices.Count == 0) return;
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var db = redis.Db;
        try
        {
            var calls = new List<Task>(Math.Min(devices.Count, 2000));
            foreach (var (userId, deviceId) in devices)
            {
                calls.Add(db.ScriptEvaluateAsync(RefreshLua, [redis.Keys.Presence(userId)],
                    [now, _ttlMs, KeyTtlMs, Field(deviceId), upsert ? 1 : 0, redis.NodeId]));
                if (calls.Count >= 2000)
                {
                    await Task.WhenAll(calls);
                    calls.Clear();
                }
            }
            await Task.WhenAll(calls);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            Warn(ex);
        }
    }

    public async ValueTask<IReadOnlyCollection<string>> GetConnectedDevicesAsync(string userId, CancellationToken ct)
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        try
        {
            var entries = await redis.Db.HashGetAllAsync(redis.Keys.Presence(userId));
            var devices = new List<string>();
            foreach (var e in entries)
            {
                string field = e.Name!;
                // "away|refreshedAt|node": a device counts while refreshed within the TTL (as in the facts script).
                string[] parts = ((string)e.Value!).Split('|');
                if (field.StartsWith("d:", StringComparison.Ordinal) && parts.Length >= 2
                    && long.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out long at) && at + _ttlMs >= now)
                    devices.Add(field[2..]);
            }
            return devices;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            Warn(ex);
            return hub.DevicesOf(new UserId(userId)).Select(d => d.DeviceId.Value).ToArray();
        }
    }

    private static string Field(string deviceId) => "d:" + deviceId;

    private static PresenceFacts ToFacts(string userId, RedisResult r)
    {
        var a = (RedisResult[])r!;
        return new PresenceFacts(userId, (int)a[0], (int)a[1], (long)a[2], (string)a[3]!);
    }

    private void Warn(Exception ex)
    {
        if (_warnings.ShouldWarn()) LogUnavailable(log, ex);
    }

    [LoggerMessage(6201, LogLevel.Warning, "Redis unavailable for presence; answering from this node's own connections")]
    private static partial void LogUnavailable(ILogger logger, Exception ex);
}
