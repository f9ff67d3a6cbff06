using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Chat.Core.Messaging;

public readonly record struct RateDecision(bool Allowed, int RetryAfterMs);

/// <summary>Per-user message rate limit. Local by default; shared through Redis in a cluster.</summary>
public interface IRateLimiter
{
    ValueTask<RateDecision> TryAcquireAsync(string userId, CancellationToken ct);
}

/// <summary>Token bucket per user: burst = the per-minute rate, refilled continuously.</summary>
public sealed class LocalRateLimiter(IOptions<ChatOptions> options, TimeProvider time) : IRateLimiter
{
    private sealed class Bucket
    {
        public double Tokens;
        public long Stamp;
    }

    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);
    private readonly int _perMinute = options.Value.RateLimit.MessagesPerMinute;

    public ValueTask<RateDecision> TryAcquireAsync(string userId, CancellationToken ct)
    {
        if (_perMinute <= 0) return ValueTask.FromResult(new RateDecision(true, 0));
        long now = time.GetTimestamp();
        var bucket = _buckets.GetOrAdd(userId, _ => new Bucket { Tokens = _perMinute, Stamp = now });
        lock (bucket)
        {
            double perTick = _perMinute / 60.0 / time.TimestampFrequency;
            bucket.Tokens = Math.Min(_perMinute, bucket.Tokens + (now - bucket.Stamp) * perTick);
            bucket.Stamp = now;
            if (bucket.Tokens >= 1)
            {
                bucket.Tokens -= 1;
                return ValueTask.FromResult(new RateDecision(true, 0));
            }
            double waitMs = (1 - bucket.Tokens) / (_perMinute / 60_000.0);
            return ValueTask.FromResult(new RateDecision(false, (int)Math.Ceiling(waitMs)));
        }
    }
}
