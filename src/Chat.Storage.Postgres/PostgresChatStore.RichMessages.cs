using Chat.Core.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Chat.Storage.Postgres;

// v1.1 rich messages. A change locks the chat's row first (the same row, in the same order, that AppendAsync locks
// for seq), checks the message under that lock, and raises chats.rev by one in the same transaction: a chat's revs
// are handed out by one transaction at a time, gap-free across nodes. A change that does nothing rolls back.
public sealed partial class PostgresChatStore
{
    private static string JoinMentions(IReadOnlyList<string> mentions) => mentions.Count == 0 ? "" : string.Join(' ', mentions);

    private static NpgsqlParameter NullableLongs(IEnumerable<long?> values) =>
        new() { Value = values.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint };

    private async Task<ChangeResult> ChangeAsync(
        string chatId, string messageId, Func<NpgsqlConnection, NpgsqlTransaction, StoredMessage, Task<ChangeOutcome>> work, CancellationToken ct)
    {
        await using var conn = await _db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var lockChat = Cmd(conn, tx, "SELECT 1 FROM chats WHERE chat_id=$1 FOR UPDATE", Text(chatId)))
            if (await lockChat.ExecuteScalarAsync(ct) is null) return new ChangeResult(ChangeOutcome.NotFound, null);
        var current = await ReadChatMessageAsync(conn, tx, chatId, messageId, ct);
        if (current is null) return new ChangeResult(ChangeOutcome.NotFound, null);
        var outcome = await work(conn, tx, current);
        if (outcome != ChangeOutcome.Changed)
        {
            await tx.RollbackAsync(ct);
            return new ChangeResult(outcome, current);
        }
        var changed = await ReadChatMessageAsync(conn, tx, chatId, messageId, ct);
        await tx.CommitAsync(ct);
        return new ChangeResult(ChangeOutcome.Changed, changed);
    }

    private static async Task<StoredMessage?> ReadChatMessageAsync(NpgsqlConnection c, NpgsqlTransaction tx, string chatId, string messageId, CancellationToken ct)
    {
        await using var cmd = Cmd(c, tx, $"SELECT {MessageCols} FROM messages WHERE chat_id=$1 AND message_id=$2", Text(chatId), Text(messageId));
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? ReadMessage(r) : null;
    }

    private static async Task<long> NextRevAsync(NpgsqlConnection c, NpgsqlTransaction tx, string chatId, CancellationToken ct)
    {
        await using var cmd = Cmd(c, tx, "UPDATE chats SET rev = rev + 1 WHERE chat_id=$1 RETURNING rev", Text(chatId));
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(ct));
    }

    private static async Task<int> RunAsync(NpgsqlConnection c, NpgsqlTransaction tx, string sql, CancellationToken ct, params NpgsqlParameter[] args)
    {
        await using var cmd = Cmd(c, tx, sql, args);
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    public Task<ChangeResult> EditMessageAsync(string chatId, string messageId, string editorId, string content, IReadOnlyList<string> mentions, long now, CancellationToken ct) =>
        ChangeAsync(chatId, messageId, async (c, tx, m) =>
        {
            if (m.SenderId != editorId) return ChangeOutcome.NotAllowed;
            if (m.Deleted) return ChangeOutcome.Deleted;
            if (content.Length == 0 && m.FileId is null) return ChangeOutcome.EmptyContent;
            if (content == m.Content) return ChangeOutcome.Unchanged;
            long rev = await NextRevAsync(c, tx, chatId, ct);
            await RunAsync(c, tx, "INSERT INTO message_edits(chat_id, seq, rev, content, edited_at) VALUES($1, $2, $3, $4, $5)", ct,
                Text(chatId), Long(m.Seq), Long(rev), Text(m.Content), Long(now));
            await RunAsync(c, tx, "UPDATE messages SET content=$3, mentions=$4, edited_at=$5, rev=$6 WHERE chat_id=$1 AND seq=$2", ct,
                Text(chatId), Long(m.Seq), Text(content), Texts(mentions), Long(now), Long(rev));
            return ChangeOutcome.Changed;
        }, ct);

    public Task<ChangeResult> DeleteMessageAsync(string chatId, string messageId, string actorId, long now, CancellationToken ct) =>
        ChangeAsync(chatId, messageId, async (c, tx, m) =>
        {
            if (m.SenderId != actorId)
            {
                await using var admin = Cmd(c, tx, "SELECT is_admin FROM chat_members WHERE chat_id=$1 AND user_id=$2", Text(chatId), Text(actorId));
                if (await admin.ExecuteScalarAsync(ct) is not true) return ChangeOutcome.NotAllowed;
            }
            if (m.Deleted) return ChangeOutcome.Deleted;
            long rev = await NextRevAsync(c, tx, chatId, ct);
            await RunAsync(c, tx, "DELETE FROM message_reactions WHERE chat_id=$1 AND seq=$2", ct, Text(chatId), Long(m.Seq));
            await RunAsync(c, tx, "DELETE FROM message_edits WHERE chat_id=$1 AND seq=$2", ct, Text(chatId), Long(m.Seq));
            await RunAsync(c, tx, """
                UPDATE messages SET content='', file_id=NULL, reply_to_seq=NULL, mentions='{}', edited_at=NULL, deleted=true, rev=$3
                WHERE chat_id=$1 AND seq=$2
                """, ct, Text(chatId), Long(m.Seq), Long(rev));
            // The file stays readable in this chat only while another message of it still links it.
            if (m.FileId is not null)
                await RunAsync(c, tx, """
                    DELETE FROM file_chats WHERE file_id=$1 AND chat_id=$2
                      AND NOT EXISTS (SELECT 1 FROM messages WHERE chat_id=$2 AND file_id=$1)
                    """, ct, Text(m.FileId), Text(chatId));
            return ChangeOutcome.Changed;
        }, ct);

    public Task<ChangeResult> ReactAsync(string chatId, string messageId, string userId, string emoji, bool add, int maxEmoji, CancellationToken ct) =>
        ChangeAsync(chatId, messageId, async (c, tx, m) =>
        {
            if (m.Deleted) return ChangeOutcome.Deleted;
            if (add)
            {
                long distinct = 0;
                bool known = false, mine = false;
                await using (var state = Cmd(c, tx, """
                    SELECT COUNT(DISTINCT emoji), COALESCE(bool_or(emoji = $3), false), COALESCE(bool_or(emoji = $3 AND user_id = $4), false)
                    FROM message_reactions WHERE chat_id=$1 AND seq=$2
                    """, Text(chatId), Long(m.Seq), Text(emoji), Text(userId)))
                await using (var r = await state.ExecuteReaderAsync(ct))
                {
                    await r.ReadAsync(ct);
                    distinct = r.GetInt64(0);
                    known = r.GetBoolean(1);
                    mine = r.GetBoolean(2);
                }
                if (mine) return ChangeOutcome.Unchanged;
                if (!known && distinct >= maxEmoji) return ChangeOutcome.TooManyEmoji;
                long rev = await NextRevAsync(c, tx, chatId, ct);
                await RunAsync(c, tx, "INSERT INTO message_reactions(chat_id, seq, emoji, user_id, rev) VALUES($1, $2, $3, $4, $5)", ct,
                    Text(chatId), Long(m.Seq), Text(emoji), Text(userId), Long(rev));
                await RunAsync(c, tx, "UPDATE messages SET rev=$3 WHERE chat_id=$1 AND seq=$2", ct, Text(chatId), Long(m.Seq), Long(rev));
            }
            else
            {
                if (await RunAsync(c, tx, "DELETE FROM message_reactions WHERE chat_id=$1 AND seq=$2 AND emoji=$3 AND user_id=$4", ct,
                        Text(chatId), Long(m.Seq), Text(emoji), Text(userId)) == 0)
                    return ChangeOutcome.Unchanged;
                long rev = await NextRevAsync(c, tx, chatId, ct);
                await RunAsync(c, tx, "UPDATE messages SET rev=$3 WHERE chat_id=$1 AND seq=$2", ct, Text(chatId), Long(m.Seq), Long(rev));
            }
            return ChangeOutcome.Changed;
        }, ct);

    public async Task<long> GetChatRevAsync(string chatId, CancellationToken ct) =>
        Convert.ToInt64(await ScalarAsync("SELECT rev FROM chats WHERE chat_id=$1", ct, Text(chatId)) ?? 0L);

    public async Task<IReadOnlyList<StoredMessage>> GetChangesAsync(string chatId, long afterRev, int limit, CancellationToken ct) =>
        // "rev > 0" lets the planner use the partial index messages_rev.
        await QueryAsync($"SELECT {MessageCols} FROM messages WHERE chat_id=$1 AND rev > 0 AND rev > $2 ORDER BY rev LIMIT $3",
            ReadMessage, ct, Text(chatId), Long(afterRev), Int(limit));

    public async Task<StoredMessage?> GetChatMessageAsync(string chatId, string messageId, CancellationToken ct) =>
        (await QueryAsync($"SELECT {MessageCols} FROM messages WHERE chat_id=$1 AND message_id=$2", ReadMessage, ct, Text(chatId), Text(messageId))).FirstOrDefault();

    public async Task<IReadOnlyList<StoredMessage>> GetMessagesBySeqAsync(string chatId, IReadOnlyCollection<long> seqs, CancellationToken ct) =>
        seqs.Count == 0 ? [] :
        await QueryAsync($"SELECT {MessageCols} FROM messages WHERE chat_id=$1 AND seq = ANY($2)", ReadMessage, ct, Text(chatId), Longs(seqs.Distinct()));

    public async Task<IReadOnlyList<ReactionRecord>> GetReactionsAsync(string chatId, IReadOnlyCollection<long> seqs, CancellationToken ct) =>
        seqs.Count == 0 ? [] :
        await QueryAsync("SELECT seq, emoji, user_id, rev FROM message_reactions WHERE chat_id=$1 AND seq = ANY($2) ORDER BY seq, rev",
            r => new ReactionRecord(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetInt64(3)), ct, Text(chatId), Longs(seqs.Distinct()));

    public async Task<IReadOnlyList<EditRecord>> GetEditsAsync(string chatId, long seq, CancellationToken ct) =>
        await QueryAsync("SELECT content, edited_at FROM message_edits WHERE chat_id=$1 AND seq=$2 ORDER BY rev",
            r => new EditRecord(r.GetString(0), r.GetInt64(1)), ct, Text(chatId), Long(seq));
}
