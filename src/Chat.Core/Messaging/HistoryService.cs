using Chat.Core.Chats;
using Chat.Core.Domain;
using Chat.Core.People;
using Chat.Core.Storage;
using Chat.Protocol;

namespace Chat.Core.Messaging;

/// <summary>History pages with each message's ticks, derived from the members' pointers.</summary>
public sealed class HistoryService(
    IMessageStore messages, IPointerStore pointers, MembershipCache membership, IAttachments attachments, MessageViews views, PrivacyRules privacy)
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
        // Ticks come from pointers, never from per-message rows (MessageTicks: the one rule, shared with search).
        var ticks = await MessageTicks.LoadAsync(members, user, pointers, privacy, ct);
        var extras = await views.LoadAsync(members.ChatId.Value, rows, ct);
        var list = new List<MessageDto>(rows.Count);
        foreach (var m in rows)
        {
            var (isRead, status) = ticks.Of(m);
            var attachment = m.FileId is null ? null : await attachments.DescribeAsync(m.FileId, ct);
            list.Add(MessageViews.Dto(new MessageDto(m.MessageId, m.ChatId, m.Seq, m.SenderId, m.Content, m.Timestamp, attachment, isRead, status, m.ClientMsgId),
                m, extras.GetValueOrDefault(m.Seq, MessageViews.Extras.None)));
        }
        return list;
    }
}
