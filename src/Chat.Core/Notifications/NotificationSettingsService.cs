using Chat.Core.Chats;
using Chat.Core.Domain;
using Chat.Protocol;

namespace Chat.Core.Notifications;

/// <summary><c>GET|PUT /api/chats/{chat_id}/settings</c>: a member's <c>notify</c> and <c>muted_until</c> for one chat.</summary>
public sealed class NotificationSettingsService(INotificationStore store, MembershipCache membership)
{
    public static readonly ChatSettingsDto Default = new(NotifyLevels.All, null);

    public async Task<ChatSettingsDto> GetAsync(UserId userId, string chatId, CancellationToken ct)
    {
        await membership.RequireMemberAsync(chatId, userId, NonMember.NotFound, ct);
        var row = await store.GetChatSettingsAsync(userId.Value, chatId, ct);
        return row is null ? Default : new ChatSettingsDto(row.Notify, row.MutedUntil);
    }

    /// <summary>Replaces both settings: <c>notify</c> is required, a missing or null <c>muted_until</c> unmutes.</summary>
    public async Task<ChatSettingsDto> SetAsync(UserId userId, string chatId, ChatSettingsDto? body, CancellationToken ct)
    {
        await membership.RequireMemberAsync(chatId, userId, NonMember.NotFound, ct);
        if (body is null || !NotifyLevels.IsValid(body.Notify))
            throw ChatException.Invalid("notify must be \"all\", \"mentions\" or \"none\".");
        if (body.MutedUntil is < 0) throw ChatException.Invalid("muted_until must be a timestamp in ms or null.");
        await store.SetChatSettingsAsync(new ChatSettingsRecord(userId.Value, chatId, body.Notify!, body.MutedUntil), ct);
        return new ChatSettingsDto(body.Notify, body.MutedUntil);
    }

    /// <summary>The user's settings for the listed chats (chat list); chats without settings get the defaults.</summary>
    public async Task<IReadOnlyDictionary<string, ChatSettingsRecord>> ForChatsAsync(string userId, IReadOnlyCollection<string> chatIds, CancellationToken ct) =>
        chatIds.Count == 0
            ? new Dictionary<string, ChatSettingsRecord>()
            : (await store.ListChatSettingsAsync(userId, chatIds, ct)).ToDictionary(s => s.ChatId, StringComparer.Ordinal);
}
