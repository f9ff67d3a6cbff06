using System.ComponentModel.DataAnnotations;

namespace Chat.Backplane.Redis;

/// <summary>The "Chat:Redis" section: timings of the Redis backplane (defaults suit production; tests shorten them).</summary>
public sealed class RedisBackplaneOptions
{
    public const string Section = "Chat:Redis";

    /// <summary>Prefix of every key and channel, so several deployments can share one Redis.</summary>
    [Required(AllowEmptyStrings = false)]
    public string KeyPrefix { get; set; } = "chat";

    /// <summary>
    /// How long a node's registration of a user (routing) and of a device (presence) lives without a refresh.
    /// A node that dies stops refreshing, so its users drop out of routing and presence after at most this long.
    /// </summary>
    [Range(1, 3600)]
    public double EntryTtlSeconds { get; set; } = 45;

    /// <summary>How often a node re-writes the registrations of everything connected to it (well under the TTL).</summary>
    [Range(0.1, 1200)]
    public double RefreshSeconds { get; set; } = 15;

    /// <summary>How long a sender trusts its cached "user → nodes" lookup (connect events also invalidate it).</summary>
    [Range(0, 60)]
    public double RouteCacheSeconds { get; set; } = 1;

    /// <summary>Most users whose routes a sender caches (a bounded cache: the oldest half is dropped when full).</summary>
    [Range(2, 100_000_000)]
    public int RouteCacheEntries { get; set; } = 200_000;

    /// <summary>How long a Redis command may take before it fails (the fan-out never waits longer for Redis).</summary>
    [Range(100, 60_000)]
    public int CommandTimeoutMs { get; set; } = 2000;
}
