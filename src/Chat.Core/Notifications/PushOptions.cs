using System.ComponentModel.DataAnnotations;

namespace Chat.Core.Notifications;

/// <summary>The <c>Chat:Push</c> section (docs/configuration.md, docs/push.md).</summary>
public sealed class PushOptions
{
    /// <summary>Allow <c>http</c> and private/loopback/link-local push endpoints. For tests only: it opens an SSRF hole.</summary>
    public bool AllowInsecureEndpoints { get; set; }

    /// <summary>Put the first 100 characters of the message in the (encrypted) payload; false sends <c>preview: ""</c>.</summary>
    public bool IncludeContent { get; set; } = true;

    /// <summary>VAPID public key (base64url, uncompressed P-256). Empty: generated into the data folder on first start.</summary>
    public string VapidPublicKey { get; set; } = "";

    /// <summary>VAPID private key (base64url, the 32-byte scalar); set together with <see cref="VapidPublicKey"/>.</summary>
    public string VapidPrivateKey { get; set; } = "";

    /// <summary>The VAPID <c>sub</c> claim: a <c>mailto:</c> or <c>https:</c> contact push services may use.</summary>
    [Required(AllowEmptyStrings = false)]
    public string VapidSubject { get; set; } = "mailto:admin@localhost";

    /// <summary>Notifications waiting for the push workers; when full, new ones are dropped (counted), never waited for.</summary>
    [Range(1, 1_000_000)]
    public int QueueCapacity { get; set; } = 10_000;

    /// <summary>Requests to push services in flight at once.</summary>
    [Range(1, 1024)]
    public int MaxConcurrentSends { get; set; } = 16;

    /// <summary>Attempts per push (the first included) for failures other than 404/410.</summary>
    [Range(1, 10)]
    public int MaxAttempts { get; set; } = 3;

    /// <summary>Delay before the first retry; doubled for each further one.</summary>
    [Range(10, 600_000)]
    public int RetryDelayMs { get; set; } = 1000;

    /// <summary>A push service that has not answered by then counts as a failure.</summary>
    [Range(1, 300)]
    public double SendTimeoutSeconds { get; set; } = 10;

    /// <summary>At most one push per (device, chat) in this window.</summary>
    [Range(0, 3600)]
    public double CollapseSeconds { get; set; } = 30;

    /// <summary>How long a push service keeps an undelivered push (the TTL header).</summary>
    [Range(0, 2_419_200)]
    public int TimeToLiveSeconds { get; set; } = 86_400;
}
