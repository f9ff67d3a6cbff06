using System.Text.Json.Serialization;

namespace Chat.Protocol;

// Notifications (PROTOCOL.md v1.1 "Notifications"): per-chat settings and Web Push.

/// <summary>The values of a chat's <c>notify</c> setting.</summary>
public static class NotifyLevels
{
    public const string All = "all";
    public const string Mentions = "mentions";
    public const string None = "none";

    public static bool IsValid(string? value) => value is All or Mentions or None;
}

/// <summary><c>GET|PUT /api/chats/{chat_id}/settings</c>; <c>muted_until</c> is written as null, never left out.</summary>
public sealed record ChatSettingsDto(
    string? Notify,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] long? MutedUntil);

public sealed record VapidPublicKeyResponse(string PublicKey);

public sealed record PushSubscriptionKeys(string? P256dh, string? Auth);
public sealed record PushSubscriptionRequest(string? Endpoint, PushSubscriptionKeys? Keys);

/// <summary>The JSON a push carries (encrypted for the device): what a service worker needs to show a notification.</summary>
public sealed record PushPayload(
    string Type, string ChatId, string MessageId, long Seq, string From,
    string SenderName, string ChatName, string Preview, long UnreadCount);
