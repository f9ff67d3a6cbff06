using Chat.Core.Caching;
using Chat.Core.Storage;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Chat.Storage.Postgres;

public sealed partial class PostgresChatStore
{
    private const string MessageCols = "message_id, chat_id, seq, sender_id, sender_device, client_msg_id, content, file_id, ts, rev, edited_at, deleted, reply_to_seq, mentions";
    private const string MessageColsM = "m.message_id, m.chat_id, m.seq, m.sender_id, m.sender_device, m.client_msg_id, m.content, m.file_id, m.ts, m.rev, m.edited_at, m.deleted, m.reply_to_seq, m.mentions";
    private const string InsertCols = "message_id, chat_id, seq, sender_id, sender_device, client_msg_id, content, file_id, ts, reply_to_seq, mentions";
    private const int MaxAppendAttempts = 3;

    private static StoredMessage ReadMessage(NpgsqlDataReader r) => ReadMessage(r, 0);
    private static StoredMessage ReadMessage(NpgsqlDataReader r, int o) =>
        new(r.GetString(o), r.GetString(o + 1), r.GetInt64(o + 2), r.GetString(o + 3), r.GetString(o + 4), r.GetString(o + 5),
            r.GetString(o + 6), NullableString(r, o + 7), r.GetInt64(o + 8))
        {
            Rev = r.GetInt64(o + 9),
            EditedAt = r.IsDBNull(o + 10) ? null : r.GetInt64(o + 10),
            Deleted = r.GetBoolean(o + 11),
            ReplyToSeq = r.IsDBNull(o + 12) ? null : r.GetInt64(o + 12),
            Mentions = r.GetFieldValue<string[]>(o + 13),
        };

    // Direct chats this node has seen committed (rows in chats + chat_members): skips two inserts per batch.
    // Chats are never deleted, so another node cannot make an entry wrong.
    // Bounded: an entry lost to eviction costs the two inserts once more, nothing else.
    private readonly BoundedCache<string, bool> _knownDirect = new("pg_known_direct_chats", 1_000_000, comparer: StringComparer.Ordinal);

    public async Task<IReadOnlyList<AppendResult>> AppendAsync(IReadOnlyList<NewMessage> batch, CancellationToken ct)
    {
        if (batch.Count == 0) return [];
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await AppendOnceAsync(batch, ct);
            }
            catch (PostgresException ex) when (attempt < MaxAppendAttempts && ex.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure)
            {
                // The transaction rolled back whole: nothing of this batch is stored, so running it again is safe.
                LogAppendRetry(_log, batch.Count, ex.SqlState, attempt);
            }
        }
    }

    /// <summary>
    /// One transaction, in phases that every node runs in the same order (so nodes queue behind each other rather than
    /// deadlock): (1) create new direct chats, then claim the dedup keys — sorted; (2) lock the chats' rows — sorted —
    /// and take the next seqs from them while inserting the messages; (3) commit. Three round trips for the usual batch,
    /// one more when it holds retries.
    /// </summary>
    private async Task<IReadOnlyList<AppendResult>> AppendOnceAsync(IReadOnlyList<NewMessage> batch, CancellationToken ct)
    {
        var results = new AppendResult?[batch.Count];
        // A key repeated inside the batch: the first occurrence is the one stored, later ones are its retries.
        var firstOf = new Dictionary<(string Sender, string Cmid), int>(batch.Count);
        var sameAs = new int[batch.Count];
        var candidates = new List<int>(batch.Count);
        for (int i = 0; i < batch.Count; i++)
        {
            var key = (batch[i].SenderId, batch[i].ClientMsgId);
            if (firstOf.TryGetValue(key, out int first))
            {
                sameAs[i] = first;
                continue;
            }
            firstOf[key] = i;
            sameAs[i] = -1;
            candidates.Add(i);
        }
        List<NewMessage> newDirect;
        newDirect = batch.Where(m => m.DirectPeer is not null && !_knownDirect.TryGetValue(m.ChatId, out _))
                .DistinctBy(m => m.ChatId, StringComparer.Ordinal).OrderBy(m => m.ChatId, StringComparer.Ordinal).ToList();

        await using var conn = await _db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);

        // ---- phase 1: direct chats, dedup keys. A key another transaction holds uncommitted makes this wait for it, then
        // count as a duplicate (it committed) or as ours (it rolled back): two nodes never both store one key.
        var claimed = new HashSet<(string, string)>();
        await using (var phase1 = new NpgsqlBatch(conn, tx))
        {
            if (newDirect.Count > 0)
            {
                phase1.BatchCommands.Add(Statement("""
                    INSERT INTO chats(chat_id, is_group, created_at, last_seq, updated_at)
                    SELECT c, false, ts, 0, ts FROM unnest($1::text[], $2::bigint[]) AS v(c, ts) ORDER BY c
                    ON CONFLICT DO NOTHING
                    """, Texts(newDirect.Select(m => m.ChatId)), Longs(newDirect.Select(m => m.Timestamp))));
                var members = newDirect.SelectMany(m => new[] { (m.ChatId, User: m.SenderId, m.Timestamp), (m.ChatId, User: m.DirectPeer!, m.Timestamp) })
                    .DistinctBy(x => (x.ChatId, x.User)).ToList();
                phase1.BatchCommands.Add(Statement("""
                    INSERT INTO chat_members(chat_id, user_id, is_admin, joined_seq, joined_at)
                    SELECT c, u, false, 0, ts FROM unnest($1::text[], $2::text[], $3::bigint[]) AS v(c, u, ts) ORDER BY c, u
                    ON CONFLICT DO NOTHING
                    """, Texts(members.Select(x => x.ChatId)), Texts(members.Select(x => x.User)), Longs(members.Select(x => x.Timestamp))));
            }
            phase1.BatchCommands.Add(Statement("""
                INSERT INTO message_keys(sender_id, client_msg_id, chat_id, message_id)
                SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS v(s, c, chat, id) ORDER BY s, c
                ON CONFLICT DO NOTHING
                RETURNING sender_id, client_msg_id
                """,
                Texts(candidates.Select(i => batch[i].SenderId)), Texts(candidates.Select(i => batch[i].ClientMsgId)),
                Texts(candidates.Select(i => batch[i].ChatId)), Texts(candidates.Select(i => batch[i].MessageId))));
            await using var r = await phase1.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct)) claimed.Add((r.GetString(0), r.GetString(1)));
        }
        var fresh = candidates.Where(i => claimed.Contains((batch[i].SenderId, batch[i].ClientMsgId))).ToList();
        var retried = candidates.Where(i => !claimed.Contains((batch[i].SenderId, batch[i].ClientMsgId))).ToList();

        if (retried.Count > 0)
        {
            var originals = new Dictionary<(string, string), StoredMessage>();
            await using (var find = Cmd(conn, tx, $"""
                SELECT {MessageColsM} FROM message_keys k
                JOIN messages m ON m.chat_id = k.chat_id AND m.message_id = k.message_id
                WHERE (k.sender_id, k.client_msg_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
                """, Texts(retried.Select(i => batch[i].SenderId)), Texts(retried.Select(i => batch[i].ClientMsgId))))
            await using (var r = await find.ExecuteReaderAsync(ct))
                while (await r.ReadAsync(ct))
                {
                    var m = ReadMessage(r);
                    originals[(m.SenderId, m.ClientMsgId)] = m;
                }
            foreach (int i in retried)
                results[i] = new AppendResult(
                    originals.GetValueOrDefault((batch[i].SenderId, batch[i].ClientMsgId))
                        ?? throw new InvalidOperationException($"Dedup key ({batch[i].SenderId}, {batch[i].ClientMsgId}) has no stored message."),
                    true);
        }

        // ---- phase 2: seqs and rows. Each chat's row is locked (in chat_id order) for the rest of the transaction, so
        // a chat's seqs are handed out by one transaction at a time: last_seq + 1 .. last_seq + n, no gaps, no duplicates.
        if (fresh.Count > 0)
        {
            var perChat = new Dictionary<string, (long Count, long MaxTs)>(StringComparer.Ordinal);
            var k = new long[fresh.Count];
            for (int j = 0; j < fresh.Count; j++)
            {
                var m = batch[fresh[j]];
                var (count, maxTs) = perChat.GetValueOrDefault(m.ChatId);
                perChat[m.ChatId] = (count + 1, Math.Max(maxTs, m.Timestamp));
                k[j] = count + 1; // position within its chat, in input order
            }
            var chats = perChat.Keys.Order(StringComparer.Ordinal).ToList();
            var seqs = new Dictionary<string, long>(fresh.Count, StringComparer.Ordinal);
            int locked = 0;
            await using (var phase2 = new NpgsqlBatch(conn, tx))
            {
                phase2.BatchCommands.Add(Statement("SELECT chat_id FROM chats WHERE chat_id = ANY($1) ORDER BY chat_id FOR UPDATE", Texts(chats)));
                phase2.BatchCommands.Add(Statement($"""
                    WITH upd AS (
                        UPDATE chats c SET last_seq = c.last_seq + v.n, updated_at = GREATEST(c.updated_at, v.ts)
                        FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS v(chat_id, n, ts)
                        WHERE c.chat_id = v.chat_id
                        RETURNING c.chat_id, c.last_seq - v.n AS base)
                    INSERT INTO messages({InsertCols})
                    SELECT m.id, m.chat, upd.base + m.k, m.s, m.dev, m.cmid, m.content, m.file, m.ts, m.reply, string_to_array(m.mentions, ' ')
                    FROM unnest($4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::bigint[],
                                $13::bigint[], $14::text[])
                         AS m(id, chat, k, s, dev, cmid, content, file, ts, reply, mentions)
                    JOIN upd ON upd.chat_id = m.chat
                    RETURNING message_id, seq
                    """,
                    Texts(chats), Longs(chats.Select(c => perChat[c].Count)), Longs(chats.Select(c => perChat[c].MaxTs)),
                    Texts(fresh.Select(i => batch[i].MessageId)), Texts(fresh.Select(i => batch[i].ChatId)), Longs(k),
                    Texts(fresh.Select(i => batch[i].SenderId)), Texts(fresh.Select(i => batch[i].SenderDeviceId)),
                    Texts(fresh.Select(i => batch[i].ClientMsgId)), Texts(fresh.Select(i => batch[i].Content)),
                    Texts(fresh.Select(i => batch[i].FileId)), Longs(fresh.Select(i => batch[i].Timestamp)),
                    NullableLongs(fresh.Select(i => batch[i].ReplyToSeq)), Texts(fresh.Select(i => JoinMentions(batch[i].Mentions)))));
                var files = fresh.Where(i => batch[i].FileId is not null).Select(i => batch[i]).ToList();
                if (files.Count > 0)
                {
                    phase2.BatchCommands.Add(Statement("""
                        INSERT INTO file_chats(file_id, chat_id)
                        SELECT DISTINCT f, c FROM unnest($1::text[], $2::text[]) AS v(f, c) ORDER BY f, c
                        ON CONFLICT DO NOTHING
                        """, Texts(files.Select(m => m.FileId)), Texts(files.Select(m => m.ChatId))));
                    phase2.BatchCommands.Add(Statement("""
                        UPDATE files f SET attached_at = COALESCE(f.attached_at, v.ts)
                        FROM (SELECT f, MIN(ts) AS ts FROM unnest($1::text[], $2::bigint[]) AS v(f, ts) GROUP BY f) v
                        WHERE f.file_id = v.f
                        """, Texts(files.Select(m => m.FileId)), Longs(files.Select(m => m.Timestamp))));
                }
                await using var r = await phase2.ExecuteReaderAsync(ct);
                while (await r.ReadAsync(ct)) locked++;
                await r.NextResultAsync(ct);
                while (await r.ReadAsync(ct)) seqs[r.GetString(0)] = r.GetInt64(1);
            }
            if (locked != chats.Count || seqs.Count != fresh.Count)
            {
                string missing = string.Join(", ", fresh.Where(i => !seqs.ContainsKey(batch[i].MessageId)).Select(i => batch[i].ChatId).Distinct());
                throw new InvalidOperationException($"Chat {missing} does not exist.");
            }
            foreach (int i in fresh)
            {
                var m = batch[i];
                results[i] = new AppendResult(new StoredMessage(m.MessageId, m.ChatId, seqs[m.MessageId], m.SenderId, m.SenderDeviceId, m.ClientMsgId, m.Content, m.FileId, m.Timestamp)
                {
                    ReplyToSeq = m.ReplyToSeq,
                    Mentions = m.Mentions,
                }, false);
            }
        }

        await tx.CommitAsync(ct);
        // Remembered only once the transaction committed: a rolled-back batch must create its chats again.
        foreach (var m in newDirect) _knownDirect.Set(m.ChatId, true);
        for (int i = 0; i < batch.Count; i++)
            if (sameAs[i] >= 0) results[i] = new AppendResult(results[sameAs[i]]!.Message, true);
        return results!;
    }

    public async Task<IReadOnlyList<StoredMessage>> GetHistoryAsync(string chatId, HistoryQuery q, CancellationToken ct)
    {
        if (q.AfterSeq is { } after)
            return await QueryAsync($"SELECT {MessageCols} FROM messages WHERE chat_id=$1 AND seq > $2 ORDER BY seq LIMIT $3",
                ReadMessage, ct, Text(chatId), Long(after), Int(q.Limit));
        return await QueryAsync($"""
            SELECT {MessageCols} FROM messages
            WHERE chat_id=$1 AND ($2::bigint IS NULL OR seq < $2) AND ($3::bigint IS NULL OR ts < $3)
            ORDER BY seq DESC LIMIT $4
            """, ReadMessage, ct, Text(chatId), Long(q.BeforeSeq), Long(q.BeforeTimestamp), Int(q.Limit));
    }

    public async Task<StoredMessage?> GetMessageAsync(string messageId, CancellationToken ct) =>
        (await QueryAsync($"SELECT {MessageCols} FROM messages WHERE message_id=$1", ReadMessage, ct, Text(messageId))).FirstOrDefault();

    public async Task<StoredMessage?> FindSentAsync(string senderId, string clientMsgId, CancellationToken ct) =>
        (await QueryAsync($"""
            SELECT {MessageColsM} FROM message_keys k
            JOIN messages m ON m.chat_id = k.chat_id AND m.message_id = k.message_id
            WHERE k.sender_id=$1 AND k.client_msg_id=$2
            """, ReadMessage, ct, Text(senderId), Text(clientMsgId))).FirstOrDefault();

    public async Task<StoredMessage?> GetMessageBySeqAsync(string chatId, long seq, CancellationToken ct) =>
        (await QueryAsync($"SELECT {MessageCols} FROM messages WHERE chat_id=$1 AND seq=$2", ReadMessage, ct, Text(chatId), Long(seq))).FirstOrDefault();

    public async Task<IReadOnlyList<string>> GetSendersAsync(string chatId, long fromExclusive, long toInclusive, string excludeUserId, CancellationToken ct) =>
        await QueryAsync("SELECT DISTINCT sender_id FROM messages WHERE chat_id=$1 AND seq > $2 AND seq <= $3 AND sender_id <> $4",
            r => r.GetString(0), ct, Text(chatId), Long(fromExclusive), Long(toInclusive), Text(excludeUserId));

    public async Task<long> GetLastSeqAsync(string chatId, CancellationToken ct) =>
        Convert.ToInt64(await ScalarAsync("SELECT last_seq FROM chats WHERE chat_id=$1", ct, Text(chatId)) ?? 0L);

    public async Task<IReadOnlyList<ChatHead>> GetChatHeadsAsync(string userId, CancellationToken ct) =>
        await QueryAsync("SELECT c.chat_id, c.last_seq FROM chat_members cm JOIN chats c ON c.chat_id = cm.chat_id WHERE cm.user_id=$1",
            r => new ChatHead(r.GetString(0), r.GetInt64(1)), ct, Text(userId));

    public async Task<IReadOnlyList<StoredMessage>> GetUndeliveredAsync(
        string userId, string deviceId, long deviceCreatedAt, string? chatId, string afterChatId, long afterSeq, int limit, CancellationToken ct) =>
        await QueryAsync($"""
            SELECT {MessageColsM}
            FROM chat_members cm
            JOIN messages m ON m.chat_id = cm.chat_id
            LEFT JOIN device_pointers dp ON dp.device_id=$1 AND dp.chat_id = cm.chat_id
            WHERE cm.user_id=$2 AND ($3::text IS NULL OR cm.chat_id=$3)
              AND m.seq > GREATEST(COALESCE(dp.delivered_seq, 0), cm.joined_seq)
              AND m.ts >= $4
              AND (m.chat_id, m.seq) > ($5, $6)
            ORDER BY m.chat_id, m.seq
            LIMIT $7
            """, ReadMessage, ct, Text(deviceId), Text(userId), Text(chatId), Long(deviceCreatedAt), Text(afterChatId), Long(afterSeq), Int(limit));

    [LoggerMessage(5003, LogLevel.Warning, "Append of {Count} messages hit {SqlState} (attempt {Attempt}); retrying the whole transaction")]
    private static partial void LogAppendRetry(ILogger logger, int count, string sqlState, int attempt);
}
