using System.Diagnostics;
using Chat.Core.Storage;
using Microsoft.Extensions.Logging;

namespace Chat.Storage.Postgres;

/// <summary>
/// Search on the cluster store: PostgreSQL full-text search. <c>messages.search</c> (a tsvector, GIN-indexed) is set
/// by a trigger from <c>content</c> on every insert and every change of content, so edits and tombstones (content
/// erased) re-index in the same transaction, whichever node or tool writes. docs/storage.md, "Search".
/// </summary>
public sealed partial class PostgresChatStore
{
    private const int BackfillChunk = 5_000;

    /// <summary>
    /// Fills <c>messages.search</c> for rows stored before the search migration, in chunks (progress in the log).
    /// Safe on several nodes at once (a row already filled is skipped) and resumable: the marker row goes last.
    /// </summary>
    private async Task BackfillSearchAsync(CancellationToken ct)
    {
        if (await ScalarAsync("SELECT 1 FROM search_backfill LIMIT 1", ct) is null) return;
        var clock = Stopwatch.StartNew();
        long total = Convert.ToInt64(await ScalarAsync("SELECT COUNT(*) FROM messages WHERE search IS NULL", ct));
        if (total > 0) LogBackfillStarted(_log, total);
        string afterChat = "";
        long afterSeq = 0, done = 0;
        while (true)
        {
            var keys = await QueryAsync("""
                SELECT chat_id, seq FROM messages WHERE (chat_id, seq) > ($1, $2) ORDER BY chat_id, seq LIMIT $3
                """, r => (Chat: r.GetString(0), Seq: r.GetInt64(1)), ct, Text(afterChat), Long(afterSeq), Int(BackfillChunk));
            if (keys.Count == 0) break;
            done += await ExecuteAsync("""
                UPDATE messages m SET search = to_tsvector('simple', chat_search_text(m.content))
                FROM unnest($1::text[], $2::bigint[]) AS k(chat_id, seq)
                WHERE m.chat_id = k.chat_id AND m.seq = k.seq AND m.search IS NULL
                """, ct, Texts(keys.Select(k => k.Chat)), Longs(keys.Select(k => k.Seq)));
            (afterChat, afterSeq) = keys[^1];
            if (total > 0) LogBackfillProgress(_log, Math.Min(done, total), total);
        }
        await ExecuteAsync("DELETE FROM search_backfill", ct);
        if (total > 0) LogBackfillDone(_log, done, (long)clock.Elapsed.TotalMilliseconds);
    }

    public async Task<IReadOnlyList<StoredMessage>> SearchMessagesAsync(
        string userId, IReadOnlyList<string> words, string? chatId, long? beforeTimestamp, int limit, CancellationToken ct)
    {
        if (words.Count == 0) return [];
        // The words are normalised as content is (chat_search_text) and each becomes a quoted prefix lexeme: the
        // tsquery is built here, never parsed from user text, so no input is tsquery syntax.
        return await QueryAsync($"""
            WITH q AS (
                SELECT to_tsquery('simple', string_agg(quote_literal(t) || ':*', ' & ')) AS query
                FROM unnest($2::text[]) AS w, regexp_split_to_table(chat_search_text(w), ' ') AS t
                WHERE t <> '')
            SELECT {MessageColsM}
            FROM messages m, q
            WHERE m.chat_id IN (SELECT chat_id FROM chat_members WHERE user_id = $1)
              AND ($3::text IS NULL OR m.chat_id = $3)
              AND m.search @@ q.query
              AND ($4::bigint IS NULL OR m.ts < $4)
            ORDER BY m.ts DESC, m.chat_id DESC, m.seq DESC
            LIMIT $5
            """, ReadMessage, ct, Text(userId), Texts(words), Text(chatId), Long(beforeTimestamp), Int(limit));
    }

    public async Task<IReadOnlyList<UserRecord>> SearchUsersAsync(string prefix, int limit, CancellationToken ct) =>
        await QueryAsync($"""
            SELECT {UserCols} FROM users
            WHERE starts_with(username, $1)
               OR EXISTS (SELECT 1 FROM regexp_split_to_table(lower(display_name), '\s+') AS w WHERE starts_with(w, $1))
            ORDER BY username LIMIT $2
            """, ReadUser, ct, Text(prefix), Int(limit));

    [LoggerMessage(5111, LogLevel.Information, "Search: indexing {Total} stored messages (a one-time migration)")]
    private static partial void LogBackfillStarted(ILogger logger, long total);

    [LoggerMessage(5112, LogLevel.Information, "Search: indexed {Done} of {Total} stored messages")]
    private static partial void LogBackfillProgress(ILogger logger, long done, long total);

    [LoggerMessage(5113, LogLevel.Information, "Search: indexed all {Total} stored messages in {ElapsedMs} ms")]
    private static partial void LogBackfillDone(ILogger logger, long total, long elapsedMs);
}
