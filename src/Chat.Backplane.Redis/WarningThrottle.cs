namespace Chat.Backplane.Redis;

/// <summary>
/// While Redis is down every call fails; one warning every few seconds says so without flooding the log.
/// Thread-safe: of the callers that race at the end of a quiet period, exactly one gets true.
/// </summary>
internal sealed class WarningThrottle
{
    private const long QuietMs = 5000;
    private long _lastTicks;

    public bool ShouldWarn()
    {
        long now = Environment.TickCount64;
        long last = Interlocked.Read(ref _lastTicks);
        return now - last >= QuietMs && Interlocked.CompareExchange(ref _lastTicks, now, last) == last;
    }
}
