using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Chat.Core;

/// <summary>Where the stores live (<c>Chat:Storage</c>).</summary>
public enum StorageProvider
{
    Sqlite,
    Postgres,
}

/// <summary>How nodes reach each other's devices, share presence and the rate limit (<c>Chat:Backplane</c>).</summary>
public enum BackplaneProvider
{
    Local,
    Redis,
}

/// <summary>Who may create an account (<c>Chat:Auth:Registration</c>).</summary>
public enum RegistrationMode
{
    /// <summary>Anyone can register.</summary>
    Open,

    /// <summary>Registering needs an invite made by a server admin (<c>Chat:Auth:Admins</c>).</summary>
    Invite,

    /// <summary>Nobody can register; existing accounts keep working.</summary>
    Closed,
}

/// <summary>Where file bytes live (<c>Chat:Blobs</c>).</summary>
public enum BlobProvider
{
    Local,
    S3,
}

/// <summary>
/// The "Chat" configuration section (docs/configuration.md lists every key and default). Checked at start-up by
/// <see cref="ChatOptionsValidator"/>: the attributes here and in every sub-section, then <see cref="Validate"/>.
/// The provider enums bind case-insensitively ("sqlite", "Postgres"); adapter settings (Chat:S3, Chat:Redis) belong
/// to their adapters and are bound by their registration methods.
/// </summary>
public sealed class ChatOptions : IValidatableObject
{
    public const string Section = "Chat";

    [Required(AllowEmptyStrings = false)]
    public string DataDir { get; set; } = "data";

    public StorageProvider Storage { get; set; } = StorageProvider.Sqlite;

    public BackplaneProvider Backplane { get; set; } = BackplaneProvider.Local;

    public BlobProvider Blobs { get; set; } = BlobProvider.Local;

    /// <summary>
    /// Start the embedded database even though the write-ahead log of its unclean shutdown was deleted (what it held
    /// is lost); off by default, so the node refuses to serve such a database. Set it once, then remove it.
    /// </summary>
    public bool AcceptDataLoss { get; set; }

    /// <summary>Set when several nodes use <c>Blobs=local</c> on a folder they all mount (NFS and the like).</summary>
    public bool BlobsShared { get; set; }

    /// <summary>Public base URL used in signed links; empty means the node's own listening address (never a request's Host header).</summary>
    public string PublicUrl { get; set; } = "";

    /// <summary>
    /// Extra exact <c>Origin</c> values accepted on <c>/ws</c> (such as <c>https://app.example.com</c>), next to the
    /// node's own origins and <see cref="PublicUrl"/>, which are always accepted; a request without <c>Origin</c> is accepted.
    /// </summary>
    public List<string> AllowedOrigins { get; set; } = [];

    /// <summary>
    /// Reverse proxies (IP addresses such as <c>10.0.0.5</c> and/or CIDR networks such as <c>10.0.0.0/8</c>) whose
    /// <c>X-Forwarded-For</c> / <c>X-Forwarded-Proto</c> name the client; empty (the default) trusts no one and ignores
    /// those headers. The client address feeds the per-address limits and the logs.
    /// </summary>
    public List<string> TrustedProxies { get; set; } = [];

    /// <summary>
    /// The OpenTelemetry <c>service.name</c> of the node (<c>target_info</c> on <c>/metrics</c>); empty = the standard
    /// <c>OTEL_SERVICE_NAME</c>, else <c>chat-server</c>.
    /// </summary>
    public string ServiceName { get; set; } = "";

    /// <summary>HMAC key for signed file URLs; generated into the data folder when empty (must be shared by all nodes).</summary>
    public string SigningKey { get; set; } = "";

    // [ValidateObjectMembers]: the generated validator descends into the sub-section (ValidateDataAnnotations did not).
    [ValidateObjectMembers]
    public RateLimitOptions RateLimit { get; set; } = new();

    [ValidateObjectMembers]
    public AuthOptions Auth { get; set; } = new();

    [ValidateObjectMembers]
    public PresenceOptions Presence { get; set; } = new();

    [ValidateObjectMembers]
    public LimitOptions Limits { get; set; } = new();

    [ValidateObjectMembers]
    public GatewayOptions Gateway { get; set; } = new();

    [ValidateObjectMembers]
    public CommitOptions Commit { get; set; } = new();

    [ValidateObjectMembers]
    public Caching.CacheOptions Caches { get; set; } = new();

    [ValidateObjectMembers]
    public Notifications.PushOptions Push { get; set; } = new();

    /// <summary>Cross-field checks the attributes cannot express, with messages that say what to change.</summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (PublicUrl.Length > 0 && !Uri.TryCreate(PublicUrl, UriKind.Absolute, out _))
            yield return new ValidationResult("Chat:PublicUrl must be an absolute URL such as https://chat.example.com.");
        foreach (string entry in TrustedProxies)
        {
            if (!TryParseProxy(entry, out _, out _))
                yield return new ValidationResult($"Chat:TrustedProxies: '{entry}' is neither an IP address nor a CIDR network such as 10.0.0.0/8.");
        }
        if (Backplane == BackplaneProvider.Redis && Blobs == BlobProvider.Local && !BlobsShared)
            yield return new ValidationResult("A cluster (Chat:Backplane=redis) with Chat:Blobs=local needs a folder all nodes share: set Chat:BlobsShared=true if Chat:DataDir is shared, or use Chat:Blobs=s3.");
    }

    /// <summary>One <see cref="TrustedProxies"/> entry: an address (<paramref name="address"/>) or a network (<paramref name="network"/>).</summary>
    public static bool TryParseProxy(string entry, out System.Net.IPAddress? address, out System.Net.IPNetwork? network)
    {
        address = null;
        network = null;
        string s = entry.Trim();
        if (s.Contains('/', StringComparison.Ordinal))
        {
            if (!System.Net.IPNetwork.TryParse(s, out var n)) return false;
            network = n;
            return true;
        }
        return System.Net.IPAddress.TryParse(s, out address);
    }
}

/// <summary>
/// The start-up check of <see cref="ChatOptions"/>, generated from its attributes (sub-sections included) and its
/// <see cref="ChatOptions.Validate"/>. Registered through <see cref="ValidatedOptions.AddValidatedOptions"/>, which
/// reports failures by configuration key.
/// </summary>
[OptionsValidator]
public sealed partial class ChatOptionsValidator : IValidateOptions<ChatOptions>;

public sealed class RateLimitOptions
{
    /// <summary>Messages per minute per user (token bucket, burst = this rate); 0 disables.</summary>
    [Range(0, 10_000_000)]
    public int MessagesPerMinute { get; set; } = 100;

    /// <summary>Failed logins per account and per client address in a one-minute window; 0 disables.</summary>
    [Range(0, 10_000_000)]
    public int LoginsPerMinute { get; set; } = 10;

    /// <summary>Registrations (attempts) per client address in a one-minute window; 0 disables.</summary>
    [Range(0, 10_000_000)]
    public int RegistrationsPerMinute { get; set; } = 10;
}

/// <summary>The <c>Chat:Auth</c> section: how much CPU password hashing may take, sessions, who may register.</summary>
public sealed class AuthOptions
{
    /// <summary>Password hashes (register, login) computed at once; the rest wait, so the message path keeps its CPU.</summary>
    [Range(1, 64)]
    public int MaxConcurrentHashes { get; set; } = 2;

    /// <summary>Requests allowed to wait for a hashing slot; one more is answered 429 <c>rate_limited</c>.</summary>
    [Range(0, 10_000)]
    public int MaxQueuedHashes { get; set; } = 32;

    /// <summary>A session (device token) unused for longer than this many days is refused and revoked; 0 keeps sessions forever.</summary>
    [Range(0, 36_500)]
    public int SessionIdleDays { get; set; } = 90;

    /// <summary>Who may register: anyone (<c>open</c>), holders of an admin-made invite (<c>invite</c>), nobody (<c>closed</c>).</summary>
    public RegistrationMode Registration { get; set; } = RegistrationMode.Open;

    /// <summary>Usernames of the server admins, who make invites. Configuration only: no API grants it.</summary>
    public List<string> Admins { get; set; } = [];
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

    /// <summary>Open sockets per device token on one node; one more is closed with 4029 <c>too_many_connections</c>. 0 disables.</summary>
    [Range(0, 100_000)]
    public int SocketsPerDevice { get; set; } = 8;

    /// <summary>Open sockets per user (all devices) on one node; one more is closed with 4029 <c>too_many_connections</c>. 0 disables.</summary>
    [Range(0, 100_000)]
    public int SocketsPerUser { get; set; } = 32;

    /// <summary>WebSocket frames (fragments) one message may span; one more closes the socket with 1009.</summary>
    [Range(1, 1_000_000)]
    public int MaxFragmentsPerMessage { get; set; } = 1024;

    /// <summary>Largest REST request body; a bigger one answers 413 <c>too_large</c>.</summary>
    [Range(1024, 1_073_741_824)]
    public long MaxRequestBodyBytes { get; set; } = 1_048_576;
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

    /// <summary>
    /// Encoded bytes queued for one socket and not yet written before it counts as a slow consumer (closed with 4008);
    /// bounds a laggard's memory where big frames would fill <see cref="SendQueueFrames"/> only at many MiB. A single
    /// frame larger than this still goes out on an empty queue.
    /// </summary>
    [Range(1, int.MaxValue)]
    public int SendQueueBytes { get; set; } = 4 * 1024 * 1024;

    [Range(1024, 16 * 1024 * 1024)]
    public int MaxFrameBytes { get; set; } = 65_536;

    /// <summary>
    /// A socket opened without a token (no <c>?token=</c>, no Bearer) must send its <c>auth</c> frame within this
    /// time, or it is closed with 4001.
    /// </summary>
    [Range(0.1, 600)]
    public double AuthTimeoutSeconds { get; set; } = 10;

    /// <summary>
    /// Sockets on this node still waiting for their <c>auth</c> frame; one more upgrade without a token is refused
    /// with 503, so a flood of unauthenticated sockets holds a bounded amount of memory.
    /// </summary>
    [Range(1, 1_000_000)]
    public int MaxPendingAuthSockets { get; set; } = 1000;

    /// <summary>Per-socket budgets for each class of client frame (<c>Chat:Gateway:FrameLimits</c>).</summary>
    [ValidateObjectMembers]
    public FrameLimitOptions FrameLimits { get; set; } = new();
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

/// <summary>
/// The "Chat:Gateway:FrameLimits" section: per-socket budgets for each class of client frame (token buckets, burst =
/// the per-minute rate, refilled continuously; 0 disables a class). Over budget a frame is dropped: typing silently,
/// the others answered with <c>rate_limited</c> + <c>retry_after_ms</c> at most once per <see cref="ErrorIntervalMs"/>.
/// <c>new_message</c> is limited per user by <c>Chat:RateLimit:MessagesPerMinute</c> instead.
/// </summary>
public sealed class FrameLimitOptions
{
    /// <summary><c>typing_start</c> / <c>typing_stop</c> (the web client sends at most one start per 2 s per chat).</summary>
    [Range(0, 10_000_000)]
    public int TypingPerMinute { get; set; } = 120;

    /// <summary><c>presence_subscribe</c>, <c>presence_unsubscribe</c>, <c>set_status</c>.</summary>
    [Range(0, 10_000_000)]
    public int PresencePerMinute { get; set; } = 120;

    /// <summary><c>ack</c> and <c>read</c>: one per message received in a busy chat, so the budget is generous.</summary>
    [Range(0, 10_000_000)]
    public int ReceiptsPerMinute { get; set; } = 12_000;

    /// <summary><c>heartbeat</c> (the contract's interval is 30 s).</summary>
    [Range(0, 10_000_000)]
    public int HeartbeatsPerMinute { get; set; } = 600;

    /// <summary>Frames of no known type: invalid JSON, a missing or unknown <c>type</c> (each answered with an error).</summary>
    [Range(0, 10_000_000)]
    public int OtherPerMinute { get; set; } = 600;

    /// <summary>Least time between two <c>rate_limited</c> answers on one socket; over-budget frames in between are dropped silently.</summary>
    [Range(1, 600_000)]
    public int ErrorIntervalMs { get; set; } = 1000;
}
