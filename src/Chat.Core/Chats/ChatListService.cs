using Chat.Core.Domain;
using Chat.Core.Messaging;
using Chat.Core.Notifications;
using Chat.Core.Presence;
using Chat.Core.Storage;
using Chat.Protocol;

namespace Chat.Core.Chats;

/// <summary>A user's chat list (last message, unread count, the other user's status) and direct-chat ids.</summary>
public sealed class ChatListService(
    IGroupStore groups, IUserStore users, PresenceService presence, MessageViews views, NotificationSettingsService notifications)
{
    public async Task<ChatList> ListChatsAsync(string userId, int? limit, long? before, CancellationToken ct)
    {
        int take = Math.Clamp(limit ?? 20, 1, HistoryService.MaxPage);
        var rows = await groups.ListChatsAsync(userId, take + 1, before, ct);
        bool hasMore = rows.Count > take;
        if (hasMore) rows = rows.Take(take).ToList();

        var otherIds = rows.Where(r => !r.IsGroup).Select(r => ChatRef.TryParse(r.ChatId, out var c) ? c.Other(userId)! : userId).Distinct().ToList();
        var others = (await users.GetUsersAsync(otherIds, ct)).ToDictionary(u => u.UserId);
        var statuses = (await presence.GetAsync(userId, otherIds, ct)).ToDictionary(p => p.UserId);
        var settings = await notifications.ForChatsAsync(userId, rows.Select(r => r.ChatId).ToList(), ct);

        // The last message's reply preview and reactions: a query only for a last message that is a reply or changed.
        var lastExtras = new Dictionary<string, MessageViews.Extras>(StringComparer.Ordinal);
        foreach (var r in rows)
            if (r.LastMessage is { } lm) lastExtras[r.ChatId] = await views.LoadOneAsync(lm, ct);

        var chats = rows.Select(r =>
        {
            var last = r.LastMessage is { } m ? MessageViews.Last(m, lastExtras[r.ChatId]) : null;
            if (r.IsGroup)
                return new ChatSummaryDto(r.ChatId, "group", null, r.GroupName, r.MemberCount, last, r.UnreadCount, r.LastReadSeq, r.UpdatedAt)
                {
                    Rev = r.Rev,
                    MentionCount = r.MentionCount,
                };
            _ = ChatRef.TryParse(r.ChatId, out var chat);
            string otherId = chat.Other(userId)!;
            others.TryGetValue(otherId, out var u);
            var other = new OtherUserDto(otherId, u?.Username ?? "", u?.DisplayName ?? "", statuses.TryGetValue(otherId, out var p) ? p.Status : PresenceStatus.Offline);
            return new ChatSummaryDto(r.ChatId, "direct", other, null, null, last, r.UnreadCount, r.LastReadSeq, r.UpdatedAt)
            {
                Rev = r.Rev,
                MentionCount = r.MentionCount,
            };
        }).Select(c => settings.TryGetValue(c.ChatId, out var s) ? c with { Notify = s.Notify, MutedUntil = s.MutedUntil } : c).ToList();
        return new ChatList(chats, hasMore);
    }

    public async Task<ChatIdResponse> DirectChatAsync(string userId, string? otherId, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(otherId) || otherId.Contains('_')) throw ChatException.Invalid("user_id is required.");
        if (await users.GetUserAsync(otherId, ct) is null) throw ChatException.NotFound("User");
        return new ChatIdResponse(ChatRef.Direct(userId, otherId));
    }
}
