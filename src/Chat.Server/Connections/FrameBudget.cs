using Chat.Core;

namespace Chat.Server.Connections;

/// <summary>The classes of client frames that share one per-socket budget (<c>Chat:Gateway:FrameLimits</c>).</summary>
internal enum FrameClass
{
    /// <summary><c>new_message</c>: limited per user by <c>Chat:RateLimit:MessagesPerMinute</c>, not here.</summary>
    Message,
    Typing,
    Presence,
    Receipt,
    Heartbeat,
    /// <summary>Anything else: invalid JSON, a missing or unknown type.</summary>
    Other,
}

/// <summary>
/// One socket's token buckets, one per <see cref="FrameClass"/> (burst = the per-minute rate, refilled continuously,
/// like the message limit). Used only by the socket's receive loop, one frame at a time, so it takes no lock.
/// </summary>
internal sealed class FrameBudget
{
    private readonly TimeProvider _time;
    private readonly double[] _perMinute;
    private readonly double[] _tokens;
    private readonly long[] _stamps;
    private readonly long _errorIntervalTicks;
    private long _lastError;

    public FrameBudget(FrameLimitOptions limits, TimeProvider time)
    {
        _time = time;
        int n = Enum.GetValues<FrameClass>().Length;
        _perMinute = new double[n];
        _perMinute[(int)FrameClass.Typing] = limits.TypingPerMinute;
        _perMinute[(int)FrameClass.Presence] = limits.PresencePerMinute;
        _perMinute[(int)FrameClass.Receipt] = limits.ReceiptsPerMinute;
        _perMinute[(int)FrameClass.Heartbeat] = limits.HeartbeatsPerMinute;
        _perMinute[(int)FrameClass.Other] = limits.OtherPerMinute;
        _tokens = (double[])_perMinute.Clone();
        long now = time.GetTimestamp();
        _stamps = Enumerable.Repeat(now, n).ToArray();
        _errorIntervalTicks = (long)(limits.ErrorIntervalMs / 1000.0 * time.TimestampFrequency);
        _lastError = now - _errorIntervalTicks - 1;
    }

    public static FrameClass Classify(string? type) => type switch
    {
        "new_message" => FrameClass.Message,
        "typing_start" or "typing_stop" => FrameClass.Typing,
        "presence_subscribe" or "presence_unsubscribe" or "set_status" => FrameClass.Presence,
        "ack" or "read" => FrameClass.Receipt,
        "heartbeat" => FrameClass.Heartbeat,
        _ => FrameClass.Other,
    };

    /// <summary>Takes one token of the class; false with the wait until the next one when the budget is spent.</summary>
    public bool TryTake(FrameClass frameClass, out int retryAfterMs)
    {
        retryAfterMs = 0;
        int i = (int)frameClass;
        double perMinute = _perMinute[i];
        if (frameClass == FrameClass.Message || perMinute <= 0) return true; // 0 disables
        long now = _time.GetTimestamp();
        _tokens[i] = Math.Min(perMinute, _tokens[i] + (now - _stamps[i]) * (perMinute / 60.0 / _time.TimestampFrequency));
        _stamps[i] = now;
        if (_tokens[i] >= 1)
        {
            _tokens[i] -= 1;
            return true;
        }
        retryAfterMs = (int)Math.Ceiling((1 - _tokens[i]) / (perMinute / 60_000.0));
        return false;
    }

    /// <summary>At most one rate_limited answer per interval, so the answers themselves cannot flood the socket.</summary>
    public bool MayAnswer()
    {
        long now = _time.GetTimestamp();
        if (now - _lastError <= _errorIntervalTicks) return false;
        _lastError = now;
        return true;
    }
}
