using Chat.Core.Storage;

namespace Chat.Core.Search;

/// <summary>
/// The search seam, part of every store (<see cref="IChatStore"/>). Each store keeps its own full-text index in step
/// with <c>messages.content</c> inside the database (SQLite FTS5 and triggers, PostgreSQL tsvector + GIN), so a
/// message is searchable exactly when its row commits and an edit or a tombstone (content erased) changes the index in
/// the same transaction. The contract kit is tests/Chat.Tests/Search/SearchContract.cs.
/// </summary>
public interface ISearchStore
{
    /// <summary>
    /// Messages of chats <paramref name="userId"/> is a member of now (only <paramref name="chatId"/> when given) whose
    /// content has, for every one of <paramref name="words"/>, a word starting with it — ignoring case and diacritics.
    /// Newest first, sent before <paramref name="beforeTimestamp"/> when given, at most <paramref name="limit"/>.
    /// </summary>
    Task<IReadOnlyList<StoredMessage>> SearchMessagesAsync(
        string userId, IReadOnlyList<string> words, string? chatId, long? beforeTimestamp, int limit, CancellationToken ct);

    /// <summary>Users whose username, or a word of whose display name, starts with <paramref name="prefix"/> (case-insensitive); by username.</summary>
    Task<IReadOnlyList<UserRecord>> SearchUsersAsync(string prefix, int limit, CancellationToken ct);
}
