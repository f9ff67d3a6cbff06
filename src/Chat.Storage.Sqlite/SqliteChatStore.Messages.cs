using Chat.Core.Storage;
using Microsoft.Data.Sqlite;

namespace Chat.Storage.Sqlite;

public sealed partial class SqliteChatStore
{
    private const string MessageCols = "message_id, chat_id, seq, sender_id, sender_device, client_msg_id, content, file_id, ts, rev, edited_at, deleted, reply_to_seq, mentions";
    private const string InsertCols = "message_id, chat_id, seq, sender_id, sender_device, client_msg_id, content, file_id, ts, reply_to_seq, mentions";
    // The message stored under a dedup key: a retry's original, in the append transaction and for FindSentAsync.
    private const string FindSentSql = $"SELECT {MessageCols} FROM messages WHERE sender_id=@s AND client_msg_id=@c";
    private static StoredMessage ReadMessage(SqliteDataReader r) => ReadMessage(r, 0, r.GetString(1));
    private static StoredMessage ReadMessage(SqliteDataReader r, int o, string chatId) =>
        new(r.GetString(o), chatId, r.GetInt64(o + 2), r.GetString(o + 3), r.GetString(o + 4), r.GetString(o + 5), r.GetString(o + 6), NullableString(r, o + 7), r.GetInt64(o + 8))
        {
            Rev = r.GetInt64(o + 9),
            EditedAt = r.IsDBNull(o + 10) ? null : r.GetInt64(o + 10),
            Deleted = r.GetInt64(o + 11) != 0,
            ReplyToSeq = r.IsDBNull(o + 12) ? null : r.GetInt64(o + 12),
            Mentions = SplitMentions(r.GetString(o + 13)),
        };

    // Direct chats known to exist (rows in chats + chat_members): skips two inserts per message.
    private readonly HashSet<string> _knownDirect = new(StringComparer.Ordinal);
    // chat_id → last committed seq. This store's write connection is the only writer of messages (SQLite is one node),
    // so seq is assigned in memory. A chat's last seq and last activity are read from its messages (the end of its
    // primary key), never written to the chats row: that row update was one more random page per stored message.
    private readonly Dictionary<string, long> _lastSeq = new(StringComparer.Ordinal);

    public Task<IReadOnlyList<AppendResult>> AppendAsync(IReadOnlyList<NewMessage> batch, CancellationToken ct) => _writes.RunAsync(() =>
    {
        try
        {
            return Append(batch, trustCache: true);
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode == 19) // SQLITE_CONSTRAINT: a seq taken by another writer of this file
        {
            // Another store instance wrote to this file (tests do; a deployment should not): redo with seqs read
            // inside the transaction, which is always right.
            return Append(batch, trustCache: false);
        }
    }, ct);

    /// <summary>Runs on the write thread, the only user of the caches.</summary>
    private IReadOnlyList<AppendResult> Append(IReadOnlyList<NewMessage> batch, bool trustCache)
    {
        var results = new AppendResult[batch.Count];
        var heads = new Dictionary<string, long>(StringComparer.Ordinal);
        var newDirect = new List<string>();
        try
        {
            using (var tx = _writer.BeginTransaction(deferred: false))
            {
                var c = _writer;
                using var insert = Cmd(c, $"""
                    INSERT INTO messages({InsertCols}) VALUES(@id, @chat, @seq, @s, @dev, @cmid, @content, @file, @ts, @reply, @mentions)
                    ON CONFLICT(sender_id, client_msg_id) DO NOTHING
                    """, tx, ("@id", ""), ("@chat", ""), ("@seq", 0L), ("@s", ""), ("@dev", ""), ("@cmid", ""), ("@content", ""), ("@file", null), ("@ts", 0L),
                    ("@reply", null), ("@mentions", ""));
                using var find = Cmd(c, FindSentSql, tx, ("@s", ""), ("@c", ""));
                using var last = Cmd(c, "SELECT (SELECT COALESCE(MAX(seq), 0) FROM messages WHERE chat_id=@c) FROM chats WHERE chat_id=@c", tx, ("@c", ""));
                for (int i = 0; i < batch.Count; i++)
                {
                    var m = batch[i];
                    if (m.DirectPeer is not null && !_knownDirect.Contains(m.ChatId))
                    {
                        EnsureDirectChat(c, tx, m);
                        newDirect.Add(m.ChatId);
                    }
                    if (!heads.TryGetValue(m.ChatId, out long head) && (!trustCache || !_lastSeq.TryGetValue(m.ChatId, out head)))
                    {
                        last.Parameters["@c"].Value = m.ChatId;
                        head = Convert.ToInt64(last.ExecuteScalar() ?? throw new InvalidOperationException($"Chat {m.ChatId} does not exist."));
                    }
                    long seq = head + 1;
                    insert.Parameters["@id"].Value = m.MessageId;
                    insert.Parameters["@chat"].Value = m.ChatId;
                    insert.Parameters["@seq"].Value = seq;
                    insert.Parameters["@s"].Value = m.SenderId;
                    insert.Parameters["@dev"].Value = m.SenderDeviceId;
                    insert.Parameters["@cmid"].Value = m.ClientMsgId;
                    insert.Parameters["@content"].Value = m.Content;
                    insert.Parameters["@file"].Value = (object?)m.FileId ?? DBNull.Value;
                    insert.Parameters["@ts"].Value = m.Timestamp;
                    insert.Parameters["@reply"].Value = (object?)m.ReplyToSeq ?? DBNull.Value;
                    insert.Parameters["@mentions"].Value = JoinMentions(m.Mentions);
                    if (insert.ExecuteNonQuery() == 0)
                    {
                        // (sender, client_msg_id) was stored before: a retry gets the original back, and no seq is used.
                        find.Parameters["@s"].Value = m.SenderId;
                        find.Parameters["@c"].Value = m.ClientMsgId;
                        using var r = find.ExecuteReader();
                        r.Read();
                        results[i] = new AppendResult(ReadMessage(r), true);
                        heads[m.ChatId] = head;
                        continue;
                    }
                    heads[m.ChatId] = seq;
                    if (m.FileId is not null) AttachFile(c, tx, m.FileId, m.ChatId, m.Timestamp);
                    results[i] = new AppendResult(new StoredMessage(m.MessageId, m.ChatId, seq, m.SenderId, m.SenderDeviceId, m.ClientMsgId, m.Content, m.FileId, m.Timestamp)
                    {
                        ReplyToSeq = m.ReplyToSeq,
                        Mentions = m.Mentions,
                    }, false);
                }
                tx.Commit();
            }
            // Remembered only once the transaction committed: a rolled-back batch leaves the caches as they were.
            foreach (var (chatId, head) in heads) _lastSeq[chatId] = head;
            foreach (string id in newDirect) _knownDirect.Add(id);
        }
        catch
        {
            _lastSeq.Clear(); // re-read from the database next time
            throw;
        }
        return results;
    }

    private static void EnsureDirectChat(SqliteConnection c, SqliteTransaction tx, NewMessage m)
    {
        using (var chat = Cmd(c, "INSERT OR IGNORE INTO chats(chat_id, is_group, created_at, last_seq, updated_at) VALUES(@c, 0, @ts, 0, @ts)", tx,
            ("@c", m.ChatId), ("@ts", m.Timestamp)))
            chat.ExecuteNonQuery();
        using var member = Cmd(c, "INSERT OR IGNORE INTO chat_members(chat_id, user_id, is_admin, joined_seq, joined_at) VALUES(@c, @u, 0, 0, @ts)", tx,
            ("@c", m.ChatId), ("@u", m.SenderId), ("@ts", m.Timestamp));
        member.ExecuteNonQuery();
        member.Parameters["@u"].Value = m.DirectPeer;
        member.ExecuteNonQuery();
    }

    private static void AttachFile(SqliteConnection c, SqliteTransaction tx, string fileId, string chatId, long ts)
    {
        using var link = Cmd(c, "INSERT OR IGNORE INTO file_chats(file_id, chat_id) VALUES(@f, @c)", tx, ("@f", fileId), ("@c", chatId));
        link.ExecuteNonQuery();
        using var mark = Cmd(c, "UPDATE files SET attached_at=COALESCE(attached_at, @ts) WHERE file_id=@f", tx, ("@f", fileId), ("@ts", ts));
        mark.ExecuteNonQuery();
    }

    public async Task<IReadOnlyList<StoredMessage>> GetHistoryAsync(string chatId, HistoryQuery q, CancellationToken ct)
    {
        if (q.AfterSeq is { } after)
            return await QueryAsync($"SELECT {MessageCols} FROM messages WHERE chat_id=@c AND seq > @after ORDER BY seq LIMIT @n",
                ReadMessage, ct, ("@c", chatId), ("@after", after), ("@n", q.Limit));
        return await QueryAsync($"""
            SELECT {MessageCols} FROM messages
            WHERE chat_id=@c AND (@bs IS NULL OR seq < @bs) AND (@bt IS NULL OR ts < @bt)
            ORDER BY seq DESC LIMIT @n
            """, ReadMessage, ct, ("@c", chatId), ("@bs", q.BeforeSeq), ("@bt", q.BeforeTimestamp), ("@n", q.Limit));
    }

    public async Task<StoredMessage?> GetMessageAsync(string messageId, CancellationToken ct) =>
        (await QueryAsync($"SELECT {MessageCols} FROM messages WHERE message_id=@id", ReadMessage, ct, ("@id", messageId))).FirstOrDefault();

    public async Task<StoredMessage?> GetMessageBySeqAsync(string chatId, long seq, CancellationToken ct) =>
        (await QueryAsync($"SELECT {MessageCols} FROM messages WHERE chat_id=@c AND seq=@s", ReadMessage, ct, ("@c", chatId), ("@s", seq))).FirstOrDefault();

    public async Task<StoredMessage?> FindSentAsync(string senderId, string clientMsgId, CancellationToken ct) =>
        (await QueryAsync(FindSentSql, ReadMessage, ct, ("@s", senderId), ("@c", clientMsgId))).FirstOrDefault();

    public async Task<IReadOnlyList<string>> GetSendersAsync(string chatId, long fromExclusive, long toInclusive, string excludeUserId, CancellationToken ct) =>
        await QueryAsync("SELECT DISTINCT sender_id FROM messages WHERE chat_id=@c AND seq > @from AND seq <= @to AND sender_id <> @u",
            r => r.GetString(0), ct, ("@c", chatId), ("@from", fromExclusive), ("@to", toInclusive), ("@u", excludeUserId));

    public async Task<long> GetLastSeqAsync(string chatId, CancellationToken ct) =>
        Convert.ToInt64(await ScalarAsync("SELECT COALESCE(MAX(seq), 0) FROM messages WHERE chat_id=@c", ct, ("@c", chatId)) ?? 0L);

    public async Task<IReadOnlyList<ChatHead>> GetChatHeadsAsync(string userId, CancellationToken ct) =>
        await QueryAsync("SELECT cm.chat_id, (SELECT COALESCE(MAX(seq), 0) FROM messages m WHERE m.chat_id = cm.chat_id) FROM chat_members cm WHERE cm.user_id=@u",
            r => new ChatHead(r.GetString(0), r.GetInt64(1)), ct, ("@u", userId));

    public async Task<IReadOnlyList<StoredMessage>> GetUndeliveredAsync(
        string userId, string deviceId, long deviceCreatedAt, string? chatId, string afterChatId, long afterSeq, int limit, CancellationToken ct) =>
        await QueryAsync($"""
            SELECT {string.Join(", ", MessageCols.Split(", ").Select(col => "m." + col))}
            FROM chat_members cm
            JOIN messages m ON m.chat_id = cm.chat_id
            LEFT JOIN device_pointers dp ON dp.chat_id = cm.chat_id AND dp.user_id = cm.user_id AND dp.device_id=@d
            WHERE cm.user_id=@u AND (@chat IS NULL OR cm.chat_id=@chat)
              AND m.seq > MAX(COALESCE(dp.delivered_seq, 0), cm.joined_seq)
              AND m.ts >= @created
              AND (m.chat_id > @afterChat OR (m.chat_id = @afterChat AND m.seq > @afterSeq))
            ORDER BY m.chat_id, m.seq
            LIMIT @n
            """, ReadMessage, ct, ("@d", deviceId), ("@u", userId), ("@chat", chatId), ("@created", deviceCreatedAt),
            ("@afterChat", afterChatId), ("@afterSeq", afterSeq), ("@n", limit));

    // ---- pointers

    public Task SaveDeliveredAsync(IReadOnlyCollection<DevicePointer> pointers, CancellationToken ct) => WriteAsync((c, tx) =>
    {
        using var cmd = Cmd(c, """
            INSERT INTO device_pointers(chat_id, user_id, device_id, delivered_seq) VALUES(@c, @u, @d, @s)
            ON CONFLICT(chat_id, user_id, device_id) DO UPDATE SET delivered_seq=MAX(delivered_seq, excluded.delivered_seq)
            """, tx, ("@d", ""), ("@c", ""), ("@u", ""), ("@s", 0L));
        foreach (var p in pointers)
        {
            cmd.Parameters["@d"].Value = p.DeviceId;
            cmd.Parameters["@c"].Value = p.ChatId;
            cmd.Parameters["@u"].Value = p.UserId;
            cmd.Parameters["@s"].Value = p.DeliveredSeq;
            cmd.ExecuteNonQuery();
        }
        return 0;
    }, ct);

    public async Task<long> GetUserDeliveredAsync(string userId, string chatId, CancellationToken ct) =>
        Convert.ToInt64(await ScalarAsync("SELECT COALESCE(MAX(delivered_seq), 0) FROM device_pointers WHERE chat_id=@c AND user_id=@u", ct,
            ("@c", chatId), ("@u", userId)) ?? 0L);

    public Task<long> AdvanceReadAsync(string userId, string chatId, long seq, CancellationToken ct) => WriteAsync((c, tx) =>
    {
        using var get = Cmd(c, "SELECT read_seq FROM chat_members WHERE chat_id=@c AND user_id=@u", tx, ("@c", chatId), ("@u", userId));
        object? old = get.ExecuteScalar();
        if (old is null) return long.MaxValue; // not a member (any more): nothing to move
        long previous = Convert.ToInt64(old);
        if (seq > previous)
        {
            using var set = Cmd(c, "UPDATE chat_members SET read_seq=@s WHERE chat_id=@c AND user_id=@u", tx, ("@s", seq), ("@c", chatId), ("@u", userId));
            set.ExecuteNonQuery();
        }
        return previous;
    }, ct);

    public async Task<IReadOnlyList<MemberPointers>> GetPointersAsync(string chatId, CancellationToken ct) =>
        await QueryAsync("""
            SELECT cm.user_id, COALESCE((SELECT MAX(delivered_seq) FROM device_pointers dp WHERE dp.chat_id=cm.chat_id AND dp.user_id=cm.user_id), 0), cm.read_seq, cm.joined_seq
            FROM chat_members cm WHERE cm.chat_id=@c
            """, r => new MemberPointers(r.GetString(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3)), ct, ("@c", chatId));

    // ---- files

    private const string FileCols = "file_id, owner_id, file_name, content_type, size, created_at, complete, has_thumbnail, attached_at";
    private static FileRecord ReadFile(SqliteDataReader r) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetInt64(4), r.GetInt64(5), r.GetInt64(6) == 1, r.GetInt64(7) == 1, r.IsDBNull(8) ? null : r.GetInt64(8));

    public Task CreateFileAsync(FileRecord f, CancellationToken ct) => WriteAsync((c, tx) =>
    {
        using var cmd = Cmd(c, $"INSERT INTO files({FileCols}) VALUES(@id, @o, @n, @t, @s, @at, 0, 0, NULL)", tx,
            ("@id", f.FileId), ("@o", f.OwnerId), ("@n", f.FileName), ("@t", f.ContentType), ("@s", f.Size), ("@at", f.CreatedAt));
        return cmd.ExecuteNonQuery();
    }, ct);

    public async Task<FileRecord?> GetFileAsync(string fileId, CancellationToken ct) =>
        (await QueryAsync($"SELECT {FileCols} FROM files WHERE file_id=@id", ReadFile, ct, ("@id", fileId))).FirstOrDefault();

    public Task MarkCompleteAsync(string fileId, bool hasThumbnail, CancellationToken ct) => WriteAsync((c, tx) =>
    {
        using var cmd = Cmd(c, "UPDATE files SET complete=1, has_thumbnail=@t WHERE file_id=@id", tx, ("@t", hasThumbnail ? 1 : 0), ("@id", fileId));
        return cmd.ExecuteNonQuery();
    }, ct);

    public Task<IReadOnlyList<FileRecord>> DeleteUnattachedAsync(long createdBefore, CancellationToken ct) => WriteAsync<IReadOnlyList<FileRecord>>((c, tx) =>
    {
        var list = new List<FileRecord>();
        using (var sel = Cmd(c, $"SELECT {FileCols} FROM files WHERE attached_at IS NULL AND created_at < @t", tx, ("@t", createdBefore)))
        using (var r = sel.ExecuteReader())
            while (r.Read()) list.Add(ReadFile(r));
        using var del = Cmd(c, "DELETE FROM files WHERE attached_at IS NULL AND created_at < @t", tx, ("@t", createdBefore));
        del.ExecuteNonQuery();
        return list;
    }, ct);

    public async Task<FileUsage> GetFileUsageAsync(string ownerId, long pendingSince, CancellationToken ct) =>
        (await QueryAsync($"SELECT {UsageSelect} FROM files WHERE owner_id=@o AND (complete=1 OR created_at >= @since)",
            r => new FileUsage(r.GetInt64(0), r.GetInt64(1), r.GetInt32(2), r.IsDBNull(3) ? null : r.GetInt64(3)), ct,
            ("@o", ownerId), ("@since", pendingSince))).Single();

    // Read from the covering index files_owner.
    private const string UsageSelect = """
        COALESCE(SUM(CASE WHEN complete=1 THEN size ELSE 0 END), 0), COALESCE(SUM(CASE WHEN complete=0 THEN size ELSE 0 END), 0),
        COUNT(CASE WHEN complete=0 THEN 1 END), MIN(CASE WHEN complete=0 THEN created_at END)
        """;
}
