using Chat.Core.Caching;
using Chat.Core.Diagnostics;
using Chat.Core.Domain;
using Microsoft.Extensions.Options;

namespace Chat.Core.Notifications;

/// <summary>
/// "At most one push per (device, chat) per <see cref="PushOptions.CollapseSeconds"/>". A seam because in a cluster
/// consecutive messages of one chat may be committed (and so pushed) by different nodes: the window must be shared.
/// </summary>
public interface IPushCollapse
{
    /// <summary>True when the device may be pushed for the chat now (and the window starts); false inside a window.</summary>
    ValueTask<bool> TryClaimAsync(string deviceId, string chatId, CancellationToken ct);
}

/// <summary>This node's windows, in a bounded cache (a forgotten entry only allows one more push).</summary>
public sealed class LocalPushCollapse : IPushCollapse
{
    private readonly BoundedCache<string, long> _lastPush;
    private readonly TimeProvider _time;
    private readonly long _windowMs;

    public LocalPushCollapse(IOptions<ChatOptions> options, TimeProvider time, ChatMetrics metrics)
    {
        var push = options.Value.Push;
        _time = time;
        _windowMs = (long)(push.CollapseSeconds * 1000);
        _lastPush = new BoundedCache<string, long>("push_collapse", Math.Max(1000, push.QueueCapacity * 10), metrics, StringComparer.Ordinal);
    }

    public ValueTask<bool> TryClaimAsync(string deviceId, string chatId, CancellationToken ct)
    {
        if (_windowMs <= 0) return ValueTask.FromResult(true);
        string key = deviceId + "\n" + chatId;
        long now = _time.NowMs();
        lock (_lastPush)
        {
            if (_lastPush.TryGetValue(key, out long last) && now - last < _windowMs) return ValueTask.FromResult(false);
            _lastPush.Set(key, now);
        }
        return ValueTask.FromResult(true);
    }
}
