using System.Diagnostics;
using Chat.Core.Storage;
using Microsoft.Extensions.Logging;

namespace Chat.Storage.Sqlite;

/// <summary>
/// Search on the embedded store: an FTS5 index over <c>messages.content</c>, kept in step by triggers, so every path
/// that writes a message — append, an edit, a tombstone (content erased), a delete — changes the index in the same
/// transaction, and a crash can never leave the two apart. docs/storage.md, "Search".
/// </summary>
public sealed partial class SqliteChatStore
{
    // detail=none: the index keeps which rows hold a term, not where (no phrase queries are asked: every query word is
    // a prefix on its own), which makes each insert cheaper and the index smaller. contentless: the text lives only in
    // messages; the index stores (chat_id, seq), the way back to the row. prefix='2 3': 2- and 3-letter prefixes are
    // looked up directly instead of merging every term that starts with them. The FTS rowid (messages.search_id) is
    // assigned in commit order, so "newest first" is a reverse walk of the index that stops after one page.
    private const string SearchSchema = """
        CREATE VIRTUAL TABLE IF NOT EXISTS message_fts USING fts5(
            content, chat_id UNINDEXED, seq UNINDEXED,
            content='', contentless_delete=1, contentless_unindexed=1,
            tokenize='unicode61 remove_diacritics 2', prefix='2 3', detail=none);
        CREATE TRIGGER IF NOT EXISTS messages_search_insert AFTER INSERT ON messages WHEN new.content <> '' BEGIN
            INSERT INTO message_fts(content, chat_id, seq) VALUES(new.content, new.chat_id, new.seq);
            UPDATE messages SET search_id = last_insert_rowid() WHERE chat_id = new.chat_id AND seq = new.seq;
        END;
        -- An edit re-indexes the row under a new id; content '' (a tombstone, or an attachment without text) leaves it
        -- out of the index with no id, so no row ever points at an index entry it does not own.
        CREATE TRIGGER IF NOT EXISTS messages_search_update AFTER UPDATE OF content ON messages WHEN old.content IS NOT new.content BEGIN
            DELETE FROM message_fts WHERE rowid = old.search_id;
            INSERT INTO message_fts(content, chat_id, seq) SELECT new.content, new.chat_id, new.seq WHERE new.content <> '';
            UPDATE messages SET search_id = CASE WHEN new.content <> '' THEN last_insert_rowid() END
            WHERE chat_id = new.chat_id AND seq = new.seq;
        END;
        CREATE TRIGGER IF NOT EXISTS messages_search_delete AFTER DELETE ON messages BEGIN
            DELETE FROM message_fts WHERE rowid = old.search_id;
        END;
        CREATE TABLE IF NOT EXISTS search_backfill(pending INTEGER NOT NULL);
        """;

    private const int BackfillChunk = 20_000;

    /// <summary>
    /// Creates the index on a database that has none and indexes the messages already stored, oldest first, in
    /// chunks of one transaction each (progress in the log). Interrupted, it resumes where it stopped on the next
    /// start: a chunk either committed (its rows have a search_id) or did not.
    /// </summary>
    private void InitializeSearch()
    {
        if (Scalar(_writer, "SELECT COUNT(*) FROM pragma_table_info('messages') WHERE name='search_id'") == 0)
            Exec(_writer, "ALTER TABLE messages ADD COLUMN search_id INTEGER");
        if (Scalar(_writer, "SELECT COUNT(*) FROM sqlite_master WHERE name='message_fts'") == 0)
            Exec(_writer, "BEGIN IMMEDIATE; " + SearchSchema + " INSERT INTO search_backfill VALUES(1); COMMIT;");
        else
            Exec(_writer, SearchSchema); // triggers dropped by hand come back; a no-op otherwise
        if (Scalar(_writer, "SELECT COUNT(*) FROM search_backfill") > 0) Backfill();
    }

    private void Backfill()
    {
        var clock = Stopwatch.StartNew();
        Exec(_writer, """
            DROP TABLE IF EXISTS temp.search_todo;
            CREATE TEMP TABLE search_todo AS
                SELECT chat_id, seq FROM messages WHERE search_id IS NULL AND content <> '' ORDER BY ts, chat_id, seq;
            """);
        long total = Scalar(_writer, "SELECT COUNT(*) FROM temp.search_todo");
        long offset = Scalar(_writer, "SELECT COALESCE((SELECT rowid FROM message_fts ORDER BY rowid DESC LIMIT 1), 0)");
        if (total > 0) LogBackfillStarted(_log, total);
        for (long done = 0; done < total; done += BackfillChunk)
        {
            using (var tx = _writer.BeginTransaction(deferred: false))
            {
                var range = new (string, object?)[] { ("@off", offset), ("@a", done), ("@b", done + BackfillChunk) };
                using (var index = Cmd(_writer, """
                    INSERT INTO message_fts(rowid, content, chat_id, seq)
                    SELECT @off + t.rowid, m.content, m.chat_id, m.seq
                    FROM temp.search_todo t JOIN messages m ON m.chat_id = t.chat_id AND m.seq = t.seq
                    WHERE t.rowid > @a AND t.rowid <= @b
                    ORDER BY t.rowid
                    """, tx, range))
                    index.ExecuteNonQuery();
                using (var link = Cmd(_writer, """
                    UPDATE messages SET search_id = @off + t.rowid
                    FROM temp.search_todo t
                    WHERE messages.chat_id = t.chat_id AND messages.seq = t.seq AND t.rowid > @a AND t.rowid <= @b
                    """, tx, range))
                    link.ExecuteNonQuery();
                tx.Commit();
            }
            LogBackfillProgress(_log, Math.Min(done + BackfillChunk, total), total);
        }
        Exec(_writer, "DROP TABLE temp.search_todo; DELETE FROM search_backfill;");
        if (total > 0) LogBackfillDone(_log, total, (long)clock.Elapsed.TotalMilliseconds);
    }

    public async Task<IReadOnlyList<StoredMessage>> SearchMessagesAsync(
        string userId, IReadOnlyList<string> words, string? chatId, long? beforeTimestamp, int limit, CancellationToken ct)
    {
        if (words.Count == 0) return [];
        // Each word a quoted prefix term: the words hold only letters and digits, so nothing in them is FTS5 syntax.
        string match = string.Join(' ', words.Select(w => "\"" + w + "\"*"));
        return await QueryAsync($"""
            SELECT {string.Join(", ", MessageCols.Split(", ").Select(col => "m." + col))}
            FROM message_fts f JOIN messages m ON m.chat_id = f.chat_id AND m.seq = f.seq
            WHERE f.message_fts MATCH @q
              AND f.chat_id IN (SELECT chat_id FROM chat_members WHERE user_id = @u)
              AND (@chat IS NULL OR f.chat_id = @chat)
              AND (@before IS NULL OR m.ts < @before)
            ORDER BY f.rowid DESC
            LIMIT @n
            """, ReadMessage, ct, ("@q", match), ("@u", userId), ("@chat", chatId), ("@before", beforeTimestamp), ("@n", limit));
    }

    public async Task<IReadOnlyList<UserRecord>> SearchUsersAsync(string prefix, int limit, CancellationToken ct)
    {
        await using var c = await OpenReaderAsync(ct);
        // SQLite's lower() and LIKE fold ASCII only; display names are any script, so the word test is .NET's.
        c.CreateFunction("chat_word_prefix", (string text, string p) => NamePrefix(text, p), isDeterministic: true);
        await using var cmd = Cmd(c, $"""
            SELECT {UserCols} FROM users
            WHERE substr(username, 1, length(@p)) = @p OR chat_word_prefix(display_name, @p)
            ORDER BY username LIMIT @n
            """, null, ("@p", prefix), ("@n", limit));
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var list = new List<UserRecord>();
        while (await r.ReadAsync(ct)) list.Add(ReadUser(r));
        return list;
    }

    /// <summary>Does a whitespace-separated word of <paramref name="text"/> start with <paramref name="prefix"/> (lower case)?</summary>
    private static bool NamePrefix(string text, string prefix)
    {
        foreach (string word in text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            if (word.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    [LoggerMessage(5101, LogLevel.Information, "Search: indexing {Total} stored messages (a one-time migration)")]
    private static partial void LogBackfillStarted(ILogger logger, long total);

    [LoggerMessage(5102, LogLevel.Information, "Search: indexed {Done} of {Total} stored messages")]
    private static partial void LogBackfillProgress(ILogger logger, long done, long total);

    [LoggerMessage(5103, LogLevel.Information, "Search: indexed all {Total} stored messages in {ElapsedMs} ms")]
    private static partial void LogBackfillDone(ILogger logger, long total, long elapsedMs);
}
