using Chat.Core;
using Chat.Core.Diagnostics;
using Chat.Core.Notifications;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Chat.Backplane.Redis;

/// <summary>
/// The collapse window shared by every node: one <c>SET NX PX</c> per push, so whichever node commits the next message
/// of the chat sees the window. When Redis is unreachable each node keeps its own windows meanwhile (a device may then
/// get one push per node in a window; nothing is held up).
/// </summary>
public sealed partial class RedisPushCollapse(
    RedisConnection redis, IOptions<ChatOptions> options, TimeProvider time, ChatMetrics metrics, ILogger<RedisPushCollapse> log) : IPushCollapse
{
    private readonly TimeSpan _window = TimeSpan.FromSeconds(options.Value.Push.CollapseSeconds);
    private readonly LocalPushCollapse _fallback = new(options, time, metrics);
    private readonly WarningThrottle _warnings = new();

    public async ValueTask<bool> TryClaimAsync(string deviceId, string chatId, CancellationToken ct)
    {
        if (_window <= TimeSpan.Zero) return true;
        if (!redis.IsConnected) return await _fallback.TryClaimAsync(deviceId, chatId, ct);
        try
        {
            return await redis.Db.StringSetAsync(redis.Keys.PushCollapse(deviceId, chatId), 1, _window, When.NotExists);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            if (_warnings.ShouldWarn()) LogFallback(log, ex);
            return await _fallback.TryClaimAsync(deviceId, chatId, ct);
        }
    }

    [LoggerMessage(6302, LogLevel.Warning, "Redis unavailable for the push collapse window; using this node's own windows meanwhile")]
    private static partial void LogFallback(ILogger logger, Exception ex);
}
