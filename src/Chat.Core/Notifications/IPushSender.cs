namespace Chat.Core.Notifications;

public enum PushOutcome
{
    /// <summary>The push service accepted the push (201).</summary>
    Sent,
    /// <summary>404 or 410: the subscription is gone and is deleted.</summary>
    Gone,
    /// <summary>Anything else (an error status, a timeout, a refused connection): retried with backoff.</summary>
    Failed,
}

/// <param name="Status">The push service's HTTP status, when it answered.</param>
public sealed record PushResult(PushOutcome Outcome, int? Status = null, string? Reason = null);

/// <summary>
/// The Web Push seam: encrypts (RFC 8291 aes128gcm), signs (RFC 8292 VAPID) and posts one push. The server's
/// implementation uses Lib.Net.Http.WebPush over an HTTP client that refuses non-public addresses and redirects.
/// </summary>
public interface IPushSender
{
    /// <param name="topic">The RFC 8030 Topic (≤ 32 base64url characters): the push service keeps only the newest push per topic.</param>
    Task<PushResult> SendAsync(PushSubscriptionRecord subscription, string topic, string payloadJson, CancellationToken ct);
}
