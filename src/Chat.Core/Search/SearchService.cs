using Chat.Core.Chats;
using Chat.Core.Domain;
using Chat.Core.Messaging;
using Chat.Core.People;
using Chat.Core.Storage;
using Chat.Protocol;

namespace Chat.Core.Search;

/// <summary>
/// <c>GET /api/search</c> and <c>GET /api/users/search</c>: checks the query, asks the store's index, and shapes the
/// hits as the message objects history returns (ticks included).
/// </summary>
public sealed class SearchService(
    ISearchStore search, MembershipCache membership, IPointerStore pointers, IAttachments attachments, MessageViews views, PrivacyRules privacy)
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 50;

    public async Task<SearchResults> SearchMessagesAsync(UserId user, string? q, string? chatId, long? before, int? limit, CancellationToken ct)
    {
        var words = RequireWords(q);
        if (chatId is not null) await membership.RequireMemberAsync(chatId, user, NonMember.NotFound, ct);
        int take = Math.Clamp(limit ?? DefaultLimit, 1, MaxLimit);
        var rows = await search.SearchMessagesAsync(user.Value, words, chatId, before, take + 1, ct);
        bool hasMore = rows.Count > take;
        var page = hasMore ? rows.Take(take) : rows;

        var ticks = new Dictionary<string, MessageTicks?>(StringComparer.Ordinal);
        var results = new List<MessageDto>(Math.Min(rows.Count, take));
        foreach (var m in page)
        {
            if (!ticks.TryGetValue(m.ChatId, out var chatTicks))
            {
                var members = await membership.GetAsync(m.ChatId, ct);
                chatTicks = members is null || !members.Contains(user) ? null : await MessageTicks.LoadAsync(members, user, pointers, privacy, ct);
                ticks[m.ChatId] = chatTicks;
            }
            // The store checked membership in the same query; the cache agreeing is a second gate, not a source of hits.
            if (chatTicks is null || m.Deleted) continue;
            var (isRead, status) = chatTicks.Of(m);
            var attachment = m.FileId is null ? null : await attachments.DescribeAsync(m.FileId, ct);
            // The v1.1 fields (reply preview, reactions) as history has them; a read only for a reply or a changed message.
            var extras = await views.LoadOneAsync(m, ct);
            results.Add(MessageViews.Dto(
                new MessageDto(m.MessageId, m.ChatId, m.Seq, m.SenderId, m.Content, m.Timestamp, attachment, isRead, status, m.ClientMsgId), m, extras));
        }
        return new SearchResults(results, hasMore);
    }

    public async Task<UserList> SearchUsersAsync(string? q, int? limit, CancellationToken ct)
    {
        string prefix = (q ?? "").Trim();
        if (prefix.Length == 0) throw ChatException.Invalid("q is required.");
        if (SearchText.Length(prefix) > SearchText.MaxQueryChars) throw ChatException.Invalid($"q is at most {SearchText.MaxQueryChars} characters.");
        int take = Math.Clamp(limit ?? DefaultLimit, 1, MaxLimit);
        var users = await search.SearchUsersAsync(prefix.ToLowerInvariant(), take, ct);
        return new UserList(users.Select(u => new UserSummaryDto(u.UserId, u.Username, u.DisplayName)).ToList());
    }

    private static IReadOnlyList<string> RequireWords(string? q)
    {
        if (string.IsNullOrEmpty(q)) throw ChatException.Invalid("q is required.");
        if (SearchText.Length(q) > SearchText.MaxQueryChars) throw ChatException.Invalid($"q is at most {SearchText.MaxQueryChars} characters.");
        var words = SearchText.Words(q);
        if (words.Count == 0) throw ChatException.Invalid("q needs at least one word (letters or digits).");
        return words;
    }
}
