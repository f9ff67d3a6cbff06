using Chat.Core.Chats;
using Chat.Core.Domain;
using Chat.Core.Storage;
using Chat.Protocol;

namespace Chat.Core.Messaging;

/// <summary>History pages with each message's ticks, derived from the members' pointers.</summary>
public sealed class HistoryService(IMessageStore messages, IPointerStore pointers, MembershipCache membership, IAttachments attachments, MessageViews views)
{
    public const int MaxPage = 100;

    public async Task<MessagePage> GetHistoryAsync(UserId user, string chatId, long? before, long? beforeSeq, long? afterSeq, int? limit, CancellationToken ct)
    {
        var members = await membership.RequireMemberAsync(chatId, user, NonMember.NotFound, ct);
        int take = Math.Clamp(limit ?? 50, 1, MaxPage);
        var rows = await messages.GetHistoryAsync(members.ChatId.Value, new HistoryQuery(before, beforeSeq, afterSeq, take + 1), ct);
        bool hasMore = rows.Count > take;
        if (hasMore) rows = rows.Take(take).ToList();
        return new MessagePage(await ToDtosAsync(user, members, rows, ct), hasMore);
    }

    /// <summary>Message objects with this user's ticks and the v1.1 fields (history, changes, single message).</summary>
    public async Task<IReadOnlyList<MessageDto>> ToDtosAsync(UserId user, ChatMembers members, IReadOnlyList<StoredMessage> rows, CancellationToken ct)
    {
        string userId = user.Value;
        // Ticks come from pointers, never from per-message rows: min/max over the other members.
        var all = await pointers.GetPointersAsync(members.ChatId.Value, ct);
        var others = all.Where(p => p.UserId != userId && members.Contains(new UserId(p.UserId))).ToList();
        int missing = members.Members.Count(m => m != user) - others.Count; // members with no pointer row yet: 0
        long minRead = missing > 0 || others.Count == 0 ? 0 : others.Min(p => p.ReadSeq);
        long maxRead = others.Count == 0 ? 0 : others.Max(p => p.ReadSeq);
        long minDelivered = missing > 0 || others.Count == 0 ? 0 : others.Min(p => Math.Max(p.DeliveredSeq, p.ReadSeq));
        long myRead = all.FirstOrDefault(p => p.UserId == userId)?.ReadSeq ?? 0;
        bool alone = members.Members.All(m => m == user);

        var extras = await views.LoadAsync(members.ChatId.Value, rows, ct);
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
            var attachment = m.FileId is null ? null : await attachments.DescribeAsync(m.FileId, ct);
            list.Add(MessageViews.Dto(new MessageDto(m.MessageId, m.ChatId, m.Seq, m.SenderId, m.Content, m.Timestamp, attachment, isRead, status, m.ClientMsgId),
                m, extras.GetValueOrDefault(m.Seq, MessageViews.Extras.None)));
        }
        return list;
    }
}
