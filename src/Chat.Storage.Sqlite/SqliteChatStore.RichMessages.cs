using Chat.Core.Storage;
using Microsoft.Data.Sqlite;

namespace Chat.Storage.Sqlite;

// v1.1 rich messages. Every change runs on the write thread in one transaction that raises chats.rev by one, so the
// chat's revisions are gap-free; a change that does nothing rolls back and takes no rev.
public sealed partial class SqliteChatStore
{
    private static string JoinMentions(IReadOnlyList<string> mentions) => mentions.Count == 0 ? "" : string.Join(' ', mentions);

    private static IReadOnlyList<string> SplitMentions(string stored) =>
        stored.Length == 0 ? [] : stored.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>A change: <paramref name="work"/> returns the outcome and whether to commit; the message is read back inside the transaction.</summary>
    private Task<ChangeResult> ChangeAsync(string chatId, string messageId, bool secureDelete, Func<SqliteConnection, SqliteTransaction, StoredMessage, ChangeOutcome> work, CancellationToken ct) =>
        _writes.RunAsync(() =>
        {
            // secure_delete overwrites freed bytes with zeros, so an erased message leaves no readable trace in the file's
            // free pages. Only for deletes: the send path keeps the cheaper default.
            if (secureDelete) Exec(_writer, "PRAGMA secure_delete=ON");
            try
            {
                using var tx = _writer.BeginTransaction(deferred: false);
                var current = ReadChatMessage(_writer, tx, chatId, messageId);
                if (current is null) return new ChangeResult(ChangeOutcome.NotFound, null);
                var outcome = work(_writer, tx, current);
                if (outcome != ChangeOutcome.Changed) return new ChangeResult(outcome, current); // disposed uncommitted: rolled back
                var changed = ReadChatMessage(_writer, tx, chatId, messageId);
                tx.Commit();
                return new ChangeResult(ChangeOutcome.Changed, changed);
            }
            finally
            {
                if (secureDelete) Exec(_writer, "PRAGMA secure_delete=OFF");
            }
        }, ct);

    private static StoredMessage? ReadChatMessage(SqliteConnection c, SqliteTransaction tx, string chatId, string messageId)
    {
        using var cmd = Cmd(c, $"SELECT {MessageCols} FROM messages WHERE chat_id=@c AND message_id=@m", tx, ("@c", chatId), ("@m", messageId));
        using var r = cmd.ExecuteReader();
        return r.Read() ? ReadMessage(r) : null;
    }

    private static long NextRev(SqliteConnection c, SqliteTransaction tx, string chatId)
    {
        using var cmd = Cmd(c, "UPDATE chats SET rev = rev + 1 WHERE chat_id=@c RETURNING rev", tx, ("@c", chatId));
        return Convert.ToInt64(cmd.ExecuteScalar() ?? throw new InvalidOperationException($"Chat {chatId} does not exist."));
    }

    private static int Run(SqliteConnection c, SqliteTransaction tx, string sql, params (string, object?)[] args)
    {
        using var cmd = Cmd(c, sql, tx, args);
        return cmd.ExecuteNonQuery();
    }

    public Task<ChangeResult> EditMessageAsync(string chatId, string messageId, string editorId, string content, IReadOnlyList<string> mentions, long now, CancellationToken ct) =>
        ChangeAsync(chatId, messageId, secureDelete: false, (c, tx, m) =>
        {
            if (m.SenderId != editorId) return ChangeOutcome.NotAllowed;
            if (m.Deleted) return ChangeOutcome.Deleted;
            if (content.Length == 0 && m.FileId is null) return ChangeOutcome.EmptyContent;
            if (content == m.Content) return ChangeOutcome.Unchanged;
            long rev = NextRev(c, tx, chatId);
            Run(c, tx, "INSERT INTO message_edits(chat_id, seq, rev, content, edited_at) VALUES(@c, @s, @r, @old, @now)",
                ("@c", chatId), ("@s", m.Seq), ("@r", rev), ("@old", m.Content), ("@now", now));
            Run(c, tx, "UPDATE messages SET content=@content, mentions=@mentions, edited_at=@now, rev=@r WHERE chat_id=@c AND seq=@s",
                ("@content", content), ("@mentions", JoinMentions(mentions)), ("@now", now), ("@r", rev), ("@c", chatId), ("@s", m.Seq));
            return ChangeOutcome.Changed;
        }, ct);

    public Task<ChangeResult> DeleteMessageAsync(string chatId, string messageId, string actorId, long now, CancellationToken ct) =>
        ChangeAsync(chatId, messageId, secureDelete: true, (c, tx, m) =>
        {
            if (m.SenderId != actorId)
            {
                using var admin = Cmd(c, "SELECT is_admin FROM chat_members WHERE chat_id=@c AND user_id=@u", tx, ("@c", chatId), ("@u", actorId));
                if (Convert.ToInt64(admin.ExecuteScalar() ?? 0L) != 1) return ChangeOutcome.NotAllowed;
            }
            if (m.Deleted) return ChangeOutcome.Deleted;
            long rev = NextRev(c, tx, chatId);
            Run(c, tx, "DELETE FROM message_reactions WHERE chat_id=@c AND seq=@s", ("@c", chatId), ("@s", m.Seq));
            Run(c, tx, "DELETE FROM message_edits WHERE chat_id=@c AND seq=@s", ("@c", chatId), ("@s", m.Seq));
            Run(c, tx, """
                UPDATE messages SET content='', file_id=NULL, reply_to_seq=NULL, mentions='', edited_at=NULL, deleted=1, rev=@r
                WHERE chat_id=@c AND seq=@s
                """, ("@r", rev), ("@c", chatId), ("@s", m.Seq));
            // The file stays readable in this chat only while another message of it still links it.
            if (m.FileId is not null)
                Run(c, tx, """
                    DELETE FROM file_chats WHERE file_id=@f AND chat_id=@c
                      AND NOT EXISTS (SELECT 1 FROM messages WHERE chat_id=@c AND file_id=@f)
                    """, ("@f", m.FileId), ("@c", chatId));
            return ChangeOutcome.Changed;
        }, ct);

    public Task<ChangeResult> ReactAsync(string chatId, string messageId, string userId, string emoji, bool add, int maxEmoji, CancellationToken ct) =>
        ChangeAsync(chatId, messageId, secureDelete: false, (c, tx, m) =>
        {
            if (m.Deleted) return ChangeOutcome.Deleted;
            if (add)
            {
                using var mine = Cmd(c, "SELECT 1 FROM message_reactions WHERE chat_id=@c AND seq=@s AND emoji=@e AND user_id=@u", tx,
                    ("@c", chatId), ("@s", m.Seq), ("@e", emoji), ("@u", userId));
                if (mine.ExecuteScalar() is not null) return ChangeOutcome.Unchanged;
                using var distinct = Cmd(c, "SELECT COUNT(DISTINCT emoji), SUM(emoji=@e) FROM message_reactions WHERE chat_id=@c AND seq=@s", tx,
                    ("@c", chatId), ("@s", m.Seq), ("@e", emoji));
                using (var r = distinct.ExecuteReader())
                {
                    r.Read();
                    bool known = !r.IsDBNull(1) && r.GetInt64(1) > 0;
                    if (!known && r.GetInt64(0) >= maxEmoji) return ChangeOutcome.TooManyEmoji;
                }
                long rev = NextRev(c, tx, chatId);
                Run(c, tx, "INSERT INTO message_reactions(chat_id, seq, emoji, user_id, rev) VALUES(@c, @s, @e, @u, @r)",
                    ("@c", chatId), ("@s", m.Seq), ("@e", emoji), ("@u", userId), ("@r", rev));
                Run(c, tx, "UPDATE messages SET rev=@r WHERE chat_id=@c AND seq=@s", ("@r", rev), ("@c", chatId), ("@s", m.Seq));
            }
            else
            {
                if (Run(c, tx, "DELETE FROM message_reactions WHERE chat_id=@c AND seq=@s AND emoji=@e AND user_id=@u",
                        ("@c", chatId), ("@s", m.Seq), ("@e", emoji), ("@u", userId)) == 0)
                    return ChangeOutcome.Unchanged;
                long rev = NextRev(c, tx, chatId);
                Run(c, tx, "UPDATE messages SET rev=@r WHERE chat_id=@c AND seq=@s", ("@r", rev), ("@c", chatId), ("@s", m.Seq));
            }
            return ChangeOutcome.Changed;
        }, ct);

    public async Task<long> GetChatRevAsync(string chatId, CancellationToken ct) =>
        Convert.ToInt64(await ScalarAsync("SELECT rev FROM chats WHERE chat_id=@c", ct, ("@c", chatId)) ?? 0L);

    public async Task<IReadOnlyList<StoredMessage>> GetChangesAsync(string chatId, long afterRev, int limit, CancellationToken ct) =>
        // "rev > 0" lets SQLite use the partial index messages_rev.
        await QueryAsync($"SELECT {MessageCols} FROM messages WHERE chat_id=@c AND rev > 0 AND rev > @after ORDER BY rev LIMIT @n",
            ReadMessage, ct, ("@c", chatId), ("@after", afterRev), ("@n", limit));

    public async Task<StoredMessage?> GetChatMessageAsync(string chatId, string messageId, CancellationToken ct) =>
        (await QueryAsync($"SELECT {MessageCols} FROM messages WHERE chat_id=@c AND message_id=@m", ReadMessage, ct, ("@c", chatId), ("@m", messageId))).FirstOrDefault();

    public async Task<IReadOnlyList<StoredMessage>> GetMessagesBySeqAsync(string chatId, IReadOnlyCollection<long> seqs, CancellationToken ct)
    {
        if (seqs.Count == 0) return [];
        return await QueryInAsync($"SELECT {MessageCols} FROM messages WHERE chat_id=@c AND seq IN (@keys)", seqs, ReadMessage, ct, ("@c", chatId));
    }

    public async Task<IReadOnlyList<ReactionRecord>> GetReactionsAsync(string chatId, IReadOnlyCollection<long> seqs, CancellationToken ct)
    {
        if (seqs.Count == 0) return [];
        var result = await QueryInAsync("SELECT seq, emoji, user_id, rev FROM message_reactions WHERE chat_id=@c AND seq IN (@keys) ORDER BY seq, rev",
            seqs, r => new ReactionRecord(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetInt64(3)), ct, ("@c", chatId));
        return result.OrderBy(x => x.Seq).ThenBy(x => x.Rev).ToList();
    }

    public async Task<IReadOnlyList<EditRecord>> GetEditsAsync(string chatId, long seq, CancellationToken ct) =>
        await QueryAsync("SELECT content, edited_at FROM message_edits WHERE chat_id=@c AND seq=@s ORDER BY rev",
            r => new EditRecord(r.GetString(0), r.GetInt64(1)), ct, ("@c", chatId), ("@s", seq));
}
