namespace Chat.Core.Notifications;

/// <summary>A user's notification settings for one chat (no row: <c>all</c>, not muted).</summary>
public sealed record ChatSettingsRecord(string UserId, string ChatId, string Notify, long? MutedUntil);

/// <summary>A device's Web Push subscription (RFC 8030 endpoint, RFC 8291 keys as base64url).</summary>
public sealed record PushSubscriptionRecord(string DeviceId, string UserId, string Endpoint, string P256dh, string Auth, long CreatedAt);

/// <summary>A subscribed live device of a chat member, with what the push needs: the member's settings and unread count.</summary>
public sealed record PushTargetRecord(PushSubscriptionRecord Subscription, string Notify, long? MutedUntil, long UnreadCount);

/// <summary>The notification part of the store seam (part of <see cref="Storage.IChatStore"/>; contract kit: StoreContract).</summary>
public interface INotificationStore
{
    Task<ChatSettingsRecord?> GetChatSettingsAsync(string userId, string chatId, CancellationToken ct);
    /// <summary>The user's stored settings for these chats (chats without a row are left out).</summary>
    Task<IReadOnlyList<ChatSettingsRecord>> ListChatSettingsAsync(string userId, IReadOnlyCollection<string> chatIds, CancellationToken ct);
    Task SetChatSettingsAsync(ChatSettingsRecord settings, CancellationToken ct);

    /// <summary>Stores the device's subscription, replacing the one it had.</summary>
    Task SavePushSubscriptionAsync(PushSubscriptionRecord subscription, CancellationToken ct);
    Task<PushSubscriptionRecord?> GetPushSubscriptionAsync(string deviceId, CancellationToken ct);
    /// <summary>
    /// Deletes the device's subscription; with <paramref name="endpoint"/> only while it is still that one (a push
    /// service's 410 for an old endpoint must not delete the device's newer subscription). False when nothing was deleted.
    /// </summary>
    Task<bool> DeletePushSubscriptionAsync(string deviceId, string? endpoint, CancellationToken ct);
    /// <summary>
    /// The subscriptions of these users' live (not revoked) devices, each with the user's settings for the chat and
    /// unread count there (messages after the read pointer not sent by that user).
    /// </summary>
    Task<IReadOnlyList<PushTargetRecord>> GetPushTargetsAsync(string chatId, IReadOnlyCollection<string> userIds, CancellationToken ct);
}
