using Chat.Core;
using Chat.Core.Messaging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Chat.Backplane.Redis;

/// <summary>
/// The per-user token bucket shared by every node: one Lua script per send, atomic on the user's own key, timed by the
/// Redis server's clock (so node clocks do not matter). When Redis is unreachable each node falls back to its own
/// in-memory bucket: the limit then holds per node rather than per cluster, and sending keeps working.
/// </summary>
public sealed partial class RedisRateLimiter(
    RedisConnection redis, IOptions<ChatOptions> options, TimeProvider time, ILogger<RedisRateLimiter> log) : IRateLimiter
{
    // KEYS[1] bucket; ARGV[1] = rate per minute (= burst). Returns {allowed, retry_after_ms}.
    private const string BucketLua = """
        local rate = tonumber(ARGV[1])
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local b = redis.call('HMGET', KEYS[1], 't', 's')
        local tokens, stamp = tonumber(b[1]), tonumber(b[2])
        if tokens == nil or stamp == nil then tokens = rate; stamp = now end
        tokens = math.min(rate, tokens + math.max(0, now - stamp) * rate / 60000)
        local allowed, wait = 0, 0
        if tokens >= 1 then
          tokens = tokens - 1
          allowed = 1
        else
          wait = math.ceil((1 - tokens) * 60000 / rate)
        end
        redis.call('HSET', KEYS[1], 't', tostring(tokens), 's', now)
        redis.call('PEXPIRE', KEYS[1], math.ceil(60000 * (rate - tokens) / rate) + 1000)
        return {allowed, wait}
        """;

    private readonly int _perMinute = options.Value.RateLimit.MessagesPerMinute;
    private readonly LocalRateLimiter _fallback = new(options, time);
    private readonly WarningThrottle _warnings = new();

    public async ValueTask<RateDecision> TryAcquireAsync(string userId, CancellationToken ct)
    {
        if (_perMinute <= 0) return new RateDecision(true, 0);
        if (!redis.IsConnected) return await _fallback.TryAcquireAsync(userId, ct);
        try
        {
            var r = (RedisResult[])(await redis.Db.ScriptEvaluateAsync(BucketLua, [redis.Keys.RateBucket(userId)], [_perMinute]))!;
            return new RateDecision((int)r[0] == 1, (int)r[1]);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            if (_warnings.ShouldWarn()) LogFallback(log, ex);
            return await _fallback.TryAcquireAsync(userId, ct);
        }
    }

    [LoggerMessage(6301, LogLevel.Warning, "Redis unavailable for rate limiting; using this node's own buckets meanwhile")]
    private static partial void LogFallback(ILogger logger, Exception ex);
}
