using System.ComponentModel.DataAnnotations;

namespace Chat.Core;

/// <summary>The "Chat" configuration section (docs/configuration.md lists every key and default).</summary>
public sealed class ChatOptions
{
    public const string Section = "Chat";

    [Required(AllowEmptyStrings = false)]
    public string DataDir { get; set; } = "data";

    [RegularExpression("^(sqlite|postgres)$", ErrorMessage = "Chat:Storage must be 'sqlite' or 'postgres'.")]
    public string Storage { get; set; } = "sqlite";

    [RegularExpression("^(local|redis)$", ErrorMessage = "Chat:Backplane must be 'local' or 'redis'.")]
    public string Backplane { get; set; } = "local";

    [RegularExpression("^(local|s3)$", ErrorMessage = "Chat:Blobs must be 'local' or 's3'.")]
    public string Blobs { get; set; } = "local";

    /// <summary>Set when several nodes use <c>Blobs=local</c> on a folder they all mount (NFS and the like).</summary>
    public bool BlobsShared { get; set; }

    /// <summary>Public base URL used in signed links; empty means "the request's own host".</summary>
    public string PublicUrl { get; set; } = "";

    /// <summary>HMAC key for signed file URLs; generated into the data folder when empty (must be shared by all nodes).</summary>
    public string SigningKey { get; set; } = "";

    public S3Options S3 { get; set; } = new();
    public RateLimitOptions RateLimit { get; set; } = new();
    public PresenceOptions Presence { get; set; } = new();
    public LimitOptions Limits { get; set; } = new();
    public GatewayOptions Gateway { get; set; } = new();
    public CommitOptions Commit { get; set; } = new();
    public Caching.CacheOptions Caches { get; set; } = new();
}

public sealed class S3Options
{
    public string ServiceUrl { get; set; } = "";
    public string Bucket { get; set; } = "";
    public string AccessKey { get; set; } = "";
    public string SecretKey { get; set; } = "";
    public string Region { get; set; } = "us-east-1";
}

public sealed class RateLimitOptions
{
    /// <summary>Messages per minute per user (token bucket, burst = this rate); 0 disables.</summary>
    [Range(0, 10_000_000)]
    public int MessagesPerMinute { get; set; } = 100;
}

public sealed class PresenceOptions
{
    [Range(0, 3600)]
    public double GraceSeconds { get; set; } = 10;

    [Range(0.1, 600)]
    public double TypingTimeoutSeconds { get; set; } = 6;

    [Range(0, 60)]
    public double TypingRebroadcastSeconds { get; set; } = 2;

    [Range(1, 100_000)]
    public int MaxSubscriptionsPerConnection { get; set; } = 1000;
}

public sealed class LimitOptions
{
    [Range(1, 1_048_576)]
    public int MaxContentBytes { get; set; } = 16384;

    [Range(2, 100_000)]
    public int MaxGroupMembers { get; set; } = 500;

    [Range(1, long.MaxValue)]
    public long MaxFileBytes { get; set; } = 52_428_800;

    [Range(1, 86_400)]
    public int UploadUrlExpirySeconds { get; set; } = 900;

    [Range(1, 604_800)]
    public int DownloadUrlExpirySeconds { get; set; } = 3600;

    /// <summary>Uploads never attached to a message are deleted after this long.</summary>
    [Range(1, 8760)]
    public double UnattachedFileHours { get; set; } = 24;
}

public sealed class GatewayOptions
{
    /// <summary>A socket with nothing received for this long is closed with 4002.</summary>
    [Range(1, 3600)]
    public double IdleTimeoutSeconds { get; set; } = 90;

    [Range(1000, 600_000)]
    public int HeartbeatIntervalMs { get; set; } = 30_000;

    /// <summary>Frames queued for one socket before it counts as a slow consumer (closed with 4008).</summary>
    [Range(16, 1_000_000)]
    public int SendQueueFrames { get; set; } = 4096;

    [Range(1024, 16 * 1024 * 1024)]
    public int MaxFrameBytes { get; set; } = 65_536;
}

public sealed class CommitOptions
{
    /// <summary>Most messages written in one transaction.</summary>
    [Range(1, 100_000)]
    public int MaxBatch { get; set; } = 1024;

    /// <summary>Sends waiting for the committer before new sends wait (backpressure).</summary>
    [Range(1, 10_000_000)]
    public int QueueCapacity { get; set; } = 65_536;

    /// <summary>How often coalesced delivery pointers are flushed (the contract allows 250 ms).</summary>
    [Range(10, 250)]
    public int PointerFlushMs { get; set; } = 100;
}
