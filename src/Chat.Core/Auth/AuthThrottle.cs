using System.Collections.Concurrent;

namespace Chat.Core.Auth;

/// <summary>
/// Counts events per key in fixed one-minute windows (failed logins per account and per address, registrations per
/// address). A window starts at a key's first event and ends a minute later, so nothing is locked for longer than
/// that: an account under attack refuses logins only until its window ends. Per node: each node counts for itself.
/// </summary>
public sealed class AuthThrottle(TimeProvider time)
{
    private const long WindowMs = 60_000;
    // Bounds memory under a flood of distinct keys: expired windows are dropped first, then the table is reset.
    private const int MaxKeys = 100_000;

    private sealed class Window
    {
        public long StartMs;
        public int Count;
    }

    private readonly ConcurrentDictionary<string, Window> _windows = new(StringComparer.Ordinal);

    /// <summary>Milliseconds until <paramref name="key"/> may act again, or 0 when it is below <paramref name="limit"/>.</summary>
    public int RetryAfterMs(string key, int limit)
    {
        if (limit <= 0 || !_windows.TryGetValue(key, out var w)) return 0;
        long now = time.GetUtcNow().ToUnixTimeMilliseconds();
        lock (w)
        {
            long left = w.StartMs + WindowMs - now;
            return left > 0 && w.Count >= limit ? (int)left : 0;
        }
    }

    /// <summary>Counts one event for <paramref name="key"/>.</summary>
    public void Hit(string key)
    {
        long now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (_windows.Count >= MaxKeys) Prune(now);
        var w = _windows.GetOrAdd(key, _ => new Window { StartMs = now });
        lock (w)
        {
            if (now - w.StartMs >= WindowMs) (w.StartMs, w.Count) = (now, 0);
            w.Count++;
        }
    }

    /// <summary>Counts one event and returns the wait when that event went over <paramref name="limit"/> (0: allowed).</summary>
    public int HitAndCheck(string key, int limit)
    {
        if (limit <= 0) return 0;
        int wait = RetryAfterMs(key, limit);
        if (wait > 0) return wait;
        Hit(key);
        return 0;
    }

    private void Prune(long now)
    {
        foreach (var (key, w) in _windows)
            if (now - w.StartMs >= WindowMs) _windows.TryRemove(key, out _);
        if (_windows.Count >= MaxKeys) _windows.Clear();
    }
}
