using Chat.Core.Domain;
using Chat.Core.Presence;
using Chat.Core.Protocol;
using Chat.Core.Storage;

namespace Chat.Core.Services;

/// <summary>The read side of REST: history with ticks, receipts, the chat list, users.</summary>
public sealed class QueryService(
    IMessageStore messages, IPointerStore pointers, IGroupStore groups, IUserStore users,
    MembershipCache membership, PresenceService presence, IAttachments attachments)
{
    public const int MaxPage = 100;

    public async Task<MessagePage> GetHistoryAsync(string userId, string chatId, long? before, long? beforeSeq, long? afterSeq, int? limit, string baseUrl, CancellationToken ct)
    {
        var members = await membership.RequireMemberAsync(chatId, userId, hideForbidden: true, ct);
        int take = Math.Clamp(limit ?? 50, 1, MaxPage);
        var rows = await messages.GetHistoryAsync(members.ChatId, new HistoryQuery(before, beforeSeq, afterSeq, take + 1), ct);
        bool hasMore = rows.Count > take;
        if (hasMore) rows = rows.Take(take).ToList();

        // Ticks come from pointers, never from per-message rows: min/max over the other members.
        var all = await pointers.GetPointersAsync(members.ChatId, ct);
        var others = all.Where(p => p.UserId != userId && members.Contains(p.UserId)).ToList();
        int missing = members.Members.Count(m => m != userId) - others.Count; // members with no pointer row yet: 0
        long minRead = missing > 0 || others.Count == 0 ? 0 : others.Min(p => p.ReadSeq);
        long maxRead = others.Count == 0 ? 0 : others.Max(p => p.ReadSeq);
        long minDelivered = missing > 0 || others.Count == 0 ? 0 : others.Min(p => Math.Max(p.DeliveredSeq, p.ReadSeq));
        long myRead = all.FirstOrDefault(p => p.UserId == userId)?.ReadSeq ?? 0;
        bool alone = members.Members.All(m => m == userId);

        var list = new List<MessageDto>(rows.Count);
        foreach (var m in rows)
        {
            bool own = m.SenderId == userId;
            string? status = null;
            bool isRead;
            if (own)
            {
                isRead = !alone && m.Seq <= maxRead;
                status = alone ? "sent" : m.Seq <= minRead ? "read" : m.Seq <= minDelivered ? "delivered" : "sent";
            }
            else isRead = m.Seq <= myRead;
            var attachment = m.FileId is null ? null : await attachments.DescribeAsync(m.FileId, baseUrl, ct);
            list.Add(new MessageDto(m.MessageId, m.ChatId, m.Seq, m.SenderId, m.Content, m.Timestamp, attachment, isRead, status, m.ClientMsgId));
        }
        return new MessagePage(list, hasMore);
    }

    public async Task<ReceiptList> GetReceiptsAsync(string userId, string chatId, CancellationToken ct)
    {
        var members = await membership.RequireMemberAsync(chatId, userId, hideForbidden: true, ct);
        var byUser = (await pointers.GetPointersAsync(members.ChatId, ct)).ToDictionary(p => p.UserId);
        return new ReceiptList(members.Members.Select(id => byUser.TryGetValue(id, out var p)
            ? new MemberReceiptDto(id, p.DeliveredSeq, p.ReadSeq)
            : new MemberReceiptDto(id, 0, 0)).ToList());
    }

    public async Task<ChatList> ListChatsAsync(string userId, int? limit, long? before, CancellationToken ct)
    {
        int take = Math.Clamp(limit ?? 20, 1, MaxPage);
        var rows = await groups.ListChatsAsync(userId, take + 1, before, ct);
        bool hasMore = rows.Count > take;
        if (hasMore) rows = rows.Take(take).ToList();

        var otherIds = rows.Where(r => !r.IsGroup).Select(r => ChatRef.TryParse(r.ChatId, out var c) ? c.Other(userId)! : userId).Distinct().ToList();
        var others = (await users.GetUsersAsync(otherIds, ct)).ToDictionary(u => u.UserId);
        var statuses = (await presence.GetAsync(otherIds, ct)).ToDictionary(p => p.UserId);

        var chats = rows.Select(r =>
        {
            var last = r.LastMessage is { } m ? new LastMessageDto(m.MessageId, m.Seq, m.SenderId, m.Content, m.Timestamp) : null;
            if (r.IsGroup)
                return new ChatSummaryDto(r.ChatId, "group", null, r.GroupName, r.MemberCount, last, r.UnreadCount, r.LastReadSeq, r.UpdatedAt);
            ChatRef.TryParse(r.ChatId, out var chat);
            string otherId = chat.Other(userId)!;
            others.TryGetValue(otherId, out var u);
            var other = new OtherUserDto(otherId, u?.Username ?? "", u?.DisplayName ?? "", statuses.TryGetValue(otherId, out var p) ? p.Status : PresenceStatus.Offline);
            return new ChatSummaryDto(r.ChatId, "direct", other, null, null, last, r.UnreadCount, r.LastReadSeq, r.UpdatedAt);
        }).ToList();
        return new ChatList(chats, hasMore);
    }

    public async Task<UserDto> GetUserAsync(string userId, CancellationToken ct)
    {
        var user = await users.GetUserAsync(userId, ct) ?? throw ChatException.NotFound("User");
        var p = (await presence.GetAsync([userId], ct))[0];
        return new UserDto(user.UserId, user.Username, user.DisplayName, p.Status, p.LastSeen);
    }

    public async Task<UserList> FindUsersAsync(string? username, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(username)) throw ChatException.Invalid("username is required.");
        var user = await users.FindByUsernameAsync(username.ToLowerInvariant(), ct);
        return new UserList(user is null ? [] : [new UserSummaryDto(user.UserId, user.Username, user.DisplayName)]);
    }

    public async Task<ChatIdResponse> DirectChatAsync(string userId, string? otherId, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(otherId) || otherId.Contains('_')) throw ChatException.Invalid("user_id is required.");
        if (await users.GetUserAsync(otherId, ct) is null) throw ChatException.NotFound("User");
        return new ChatIdResponse(ChatRef.Direct(userId, otherId));
    }
}
