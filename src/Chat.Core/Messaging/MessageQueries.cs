using Chat.Core.Chats;
using Chat.Core.Domain;
using Chat.Core.Storage;
using Chat.Protocol;

namespace Chat.Core.Messaging;

/// <summary>The v1.1 reads: changes since a rev, one message, its edit history (members only; others get not_found).</summary>
public sealed class MessageQueries(MembershipCache membership, IRichMessageStore store, HistoryService history)
{
    public async Task<ChangesPage> GetChangesAsync(UserId user, string chatId, long? afterRev, int? limit, CancellationToken ct)
    {
        var members = await membership.RequireMemberAsync(chatId, user, NonMember.NotFound, ct);
        if (afterRev is < 0) throw ChatException.Invalid("after_rev must be 0 or more.");
        int take = Math.Clamp(limit ?? 100, 1, HistoryService.MaxPage);
        // The rev is read first: a change committed in between is in the page or above the rev, never lost.
        long rev = await store.GetChatRevAsync(members.ChatId.Value, ct);
        var rows = await store.GetChangesAsync(members.ChatId.Value, afterRev ?? 0, take + 1, ct);
        bool hasMore = rows.Count > take;
        if (hasMore) rows = rows.Take(take).ToList();
        var dtos = await history.ToDtosAsync(user, members, rows, ct);
        return new ChangesPage(dtos, Math.Max(rev, rows.Count > 0 ? rows[^1].Rev : 0), hasMore);
    }

    public async Task<MessageDto> GetMessageAsync(UserId user, string chatId, string messageId, CancellationToken ct)
    {
        var members = await membership.RequireMemberAsync(chatId, user, NonMember.NotFound, ct);
        var m = await store.GetChatMessageAsync(members.ChatId.Value, messageId, ct) ?? throw ChatException.NotFound("Message");
        return (await history.ToDtosAsync(user, members, [m], ct))[0];
    }

    public async Task<EditList> GetEditsAsync(UserId user, string chatId, string messageId, CancellationToken ct)
    {
        var members = await membership.RequireMemberAsync(chatId, user, NonMember.NotFound, ct);
        var m = await store.GetChatMessageAsync(members.ChatId.Value, messageId, ct) ?? throw ChatException.NotFound("Message");
        if (m.Deleted) return new EditList([]);
        var edits = await store.GetEditsAsync(members.ChatId.Value, m.Seq, ct);
        return new EditList(edits.Select(e => new EditDto(e.Content, e.EditedAt)).ToList());
    }
}
