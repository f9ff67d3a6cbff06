using Chat.Core.Storage;
using Npgsql;

namespace Chat.Storage.Postgres;

public sealed partial class PostgresChatStore
{
    public Task CreateGroupAsync(GroupRecord g, CancellationToken ct) => InTransactionAsync(async (c, tx) =>
    {
        await using var batch = new NpgsqlBatch(c, tx)
        {
            BatchCommands =
            {
                Statement("""
                    INSERT INTO chats(chat_id, is_group, name, description, created_by, created_at, last_seq, updated_at)
                    VALUES($1, true, $2, $3, $4, $5, 0, $5)
                    """, Text(g.GroupId), Text(g.Name), Text(g.Description), Text(g.CreatedBy), Long(g.CreatedAt)),
                Statement("""
                    INSERT INTO chat_members(chat_id, user_id, is_admin, joined_seq, joined_at)
                    SELECT $1, u, a, 0, $2 FROM unnest($3::text[], $4::boolean[]) AS v(u, a)
                    """, Text(g.GroupId), Long(g.CreatedAt), Texts(g.Members), Bools(g.Members.Select(u => g.Admins.Contains(u)))),
            },
        };
        return await batch.ExecuteNonQueryAsync(ct);
    }, ct);

    public async Task<GroupRecord?> GetGroupAsync(string groupId, CancellationToken ct)
    {
        await using var conn = await _db.OpenConnectionAsync(ct);
        await using var batch = new NpgsqlBatch(conn)
        {
            BatchCommands =
            {
                Statement("SELECT name, description, created_by, created_at FROM chats WHERE chat_id=$1 AND is_group", Text(groupId)),
                Statement("SELECT user_id, is_admin FROM chat_members WHERE chat_id=$1 ORDER BY joined_at, user_id", Text(groupId)),
            },
        };
        await using var r = await batch.ExecuteReaderAsync(ct);
        if (!await r.ReadAsync(ct)) return null;
        var g = new GroupRecord(groupId, r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3), [], []);
        await r.NextResultAsync(ct);
        var members = new List<string>();
        var admins = new List<string>();
        while (await r.ReadAsync(ct))
        {
            members.Add(r.GetString(0));
            if (r.GetBoolean(1)) admins.Add(r.GetString(0));
        }
        return g with { Members = members, Admins = admins };
    }

    public Task UpdateGroupAsync(string groupId, string? name, string? description, CancellationToken ct) =>
        ExecuteAsync("UPDATE chats SET name=COALESCE($1, name), description=COALESCE($2, description) WHERE chat_id=$3 AND is_group", ct,
            Text(name), Text(description), Text(groupId));

    public Task<IReadOnlyList<string>?> AddMembersAsync(string groupId, IReadOnlyCollection<string> userIds, int maxMembers, long now, CancellationToken ct) =>
        InTransactionAsync<IReadOnlyList<string>?>(async (c, tx) =>
        {
            // The chat's row lock serialises this with other adds (the member limit holds across nodes) and with appends
            // (joined_seq is exactly the last seq committed before the member joined).
            long? lastSeq;
            await using (var lockChat = Cmd(c, tx, "SELECT last_seq FROM chats WHERE chat_id=$1 FOR UPDATE", Text(groupId)))
                lastSeq = (long?)await lockChat.ExecuteScalarAsync(ct);
            var existing = new HashSet<string>(StringComparer.Ordinal);
            await using (var cmd = Cmd(c, tx, "SELECT user_id FROM chat_members WHERE chat_id=$1", Text(groupId)))
            await using (var r = await cmd.ExecuteReaderAsync(ct))
                while (await r.ReadAsync(ct)) existing.Add(r.GetString(0));
            var added = userIds.Where(u => !existing.Contains(u)).Distinct().ToList();
            if (existing.Count + added.Count > maxMembers) return null;
            if (added.Count == 0) return added;
            if (lastSeq is null) throw new InvalidOperationException($"Chat {groupId} does not exist.");
            await using var write = new NpgsqlBatch(c, tx)
            {
                BatchCommands =
                {
                    Statement("""
                        INSERT INTO chat_members(chat_id, user_id, is_admin, joined_seq, joined_at)
                        SELECT $1, u, false, $2, $3 FROM unnest($4::text[]) AS v(u)
                        """, Text(groupId), Long(lastSeq), Long(now), Texts(added)),
                    Statement("UPDATE chats SET updated_at=GREATEST(updated_at, $2) WHERE chat_id=$1", Text(groupId), Long(now)),
                },
            };
            await write.ExecuteNonQueryAsync(ct);
            return added;
        }, ct);

    public async Task<bool> RemoveMemberAsync(string groupId, string userId, CancellationToken ct) =>
        Convert.ToInt64(await ScalarAsync("""
            WITH gone AS (DELETE FROM chat_members WHERE chat_id=$1 AND user_id=$2 RETURNING user_id),
                 pointers AS (DELETE FROM device_pointers WHERE chat_id=$1 AND user_id=$2 AND EXISTS (SELECT 1 FROM gone)),
                 -- A group never stays without an admin: the longest-standing member takes over from the last one.
                 -- (Every part of the statement sees the rows as they were before it, hence user_id <> $2.)
                 promoted AS (
                     UPDATE chat_members SET is_admin = true
                     WHERE chat_id=$1 AND EXISTS (SELECT 1 FROM gone)
                       AND NOT EXISTS (SELECT 1 FROM chat_members WHERE chat_id=$1 AND is_admin AND user_id <> $2)
                       AND user_id = (SELECT user_id FROM chat_members WHERE chat_id=$1 AND user_id <> $2 ORDER BY joined_at, user_id LIMIT 1))
            SELECT COUNT(*) FROM gone
            """, ct, Text(groupId), Text(userId))) == 1;

    public async Task<IReadOnlyList<string>> GetMembersAsync(string chatId, CancellationToken ct) =>
        await QueryAsync("SELECT user_id FROM chat_members WHERE chat_id=$1 ORDER BY joined_at, user_id", r => r.GetString(0), ct, Text(chatId));

    /// <summary>The chat list in ONE query: per chat its last message, member count and unread count (from the read pointer).</summary>
    public async Task<IReadOnlyList<ChatSummaryRecord>> ListChatsAsync(string userId, int limit, long? beforeUpdatedAt, CancellationToken ct) =>
        await QueryAsync($"""
            SELECT c.chat_id, c.is_group, c.name, c.updated_at, cm.read_seq,
                   CASE WHEN c.is_group THEN (SELECT COUNT(*) FROM chat_members x WHERE x.chat_id=c.chat_id) ELSE 2 END,
                   (SELECT COUNT(*) FROM messages u WHERE u.chat_id=c.chat_id AND u.seq > cm.read_seq AND u.sender_id <> $1 AND NOT u.deleted),
                   {MessageColsM},
                   c.rev,
                   (SELECT COUNT(*) FROM messages u WHERE u.chat_id=c.chat_id AND u.seq > cm.read_seq AND u.sender_id <> $1 AND NOT u.deleted
                        AND $1 = ANY(u.mentions))
            FROM chat_members cm
            JOIN chats c ON c.chat_id = cm.chat_id
            LEFT JOIN messages m ON m.chat_id = c.chat_id AND m.seq = c.last_seq
            WHERE cm.user_id=$1 AND (c.is_group OR c.last_seq > 0) AND ($2::bigint IS NULL OR c.updated_at < $2)
            ORDER BY c.updated_at DESC, c.chat_id
            LIMIT $3
            """, r => new ChatSummaryRecord(
                r.GetString(0), r.GetBoolean(1), NullableString(r, 2), (int)r.GetInt64(5),
                r.IsDBNull(7) ? null : ReadMessage(r, 7),
                r.GetInt64(4), r.GetInt64(6), r.GetInt64(3))
        {
            Rev = r.GetInt64(21),
            MentionCount = r.GetInt64(22),
        },
            ct, Text(userId), Long(beforeUpdatedAt), Int(limit));

    // ---- pointers

    public async Task SaveDeliveredAsync(IReadOnlyCollection<DevicePointer> pointers, CancellationToken ct)
    {
        if (pointers.Count == 0) return;
        // One row per (device, chat) — ON CONFLICT DO UPDATE may touch a row once per statement — sorted, so that
        // nodes flushing overlapping pointers take the row locks in the same order.
        var rows = pointers.GroupBy(p => (p.DeviceId, p.ChatId))
            .Select(g => g.MaxBy(p => p.DeliveredSeq)!)
            .OrderBy(p => p.DeviceId, StringComparer.Ordinal).ThenBy(p => p.ChatId, StringComparer.Ordinal).ToList();
        await ExecuteAsync("""
            INSERT INTO device_pointers(device_id, chat_id, user_id, delivered_seq)
            SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS v(d, c, u, s) ORDER BY d, c
            ON CONFLICT(device_id, chat_id) DO UPDATE SET delivered_seq=GREATEST(device_pointers.delivered_seq, excluded.delivered_seq)
            """, ct, Texts(rows.Select(p => p.DeviceId)), Texts(rows.Select(p => p.ChatId)), Texts(rows.Select(p => p.UserId)), Longs(rows.Select(p => p.DeliveredSeq)));
    }

    public async Task<long> GetUserDeliveredAsync(string userId, string chatId, CancellationToken ct) =>
        Convert.ToInt64(await ScalarAsync("SELECT COALESCE(MAX(delivered_seq), 0) FROM device_pointers WHERE chat_id=$1 AND user_id=$2", ct,
            Text(chatId), Text(userId)) ?? 0L);

    public async Task<long> AdvanceReadAsync(string userId, string chatId, long seq, CancellationToken ct)
    {
        // One statement: the sub-select locks the row and reads its current value (after any concurrent writer
        // committed), the update only ever raises it, and the old value comes back.
        object? previous = await ScalarAsync("""
            UPDATE chat_members cm SET read_seq = GREATEST(cm.read_seq, $3)
            FROM (SELECT read_seq FROM chat_members WHERE chat_id=$1 AND user_id=$2 FOR UPDATE) old
            WHERE cm.chat_id=$1 AND cm.user_id=$2
            RETURNING old.read_seq
            """, ct, Text(chatId), Text(userId), Long(seq));
        return previous is null ? long.MaxValue : Convert.ToInt64(previous); // not a member (any more): nothing to move
    }

    public async Task<IReadOnlyList<MemberPointers>> GetPointersAsync(string chatId, CancellationToken ct) =>
        await QueryAsync("""
            SELECT cm.user_id, COALESCE((SELECT MAX(delivered_seq) FROM device_pointers dp WHERE dp.chat_id=cm.chat_id AND dp.user_id=cm.user_id), 0), cm.read_seq, cm.joined_seq
            FROM chat_members cm WHERE cm.chat_id=$1
            """, r => new MemberPointers(r.GetString(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3)), ct, Text(chatId));

    // ---- files

    private const string FileCols = "file_id, owner_id, file_name, content_type, size, created_at, complete, has_thumbnail, attached_at";
    private static FileRecord ReadFile(NpgsqlDataReader r) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetInt64(4), r.GetInt64(5), r.GetBoolean(6), r.GetBoolean(7), r.IsDBNull(8) ? null : r.GetInt64(8));

    public Task CreateFileAsync(FileRecord f, CancellationToken ct) =>
        ExecuteAsync($"INSERT INTO files({FileCols}) VALUES($1, $2, $3, $4, $5, $6, false, false, NULL)", ct,
            Text(f.FileId), Text(f.OwnerId), Text(f.FileName), Text(f.ContentType), Long(f.Size), Long(f.CreatedAt));

    public async Task<FileRecord?> GetFileAsync(string fileId, CancellationToken ct) =>
        (await QueryAsync($"SELECT {FileCols} FROM files WHERE file_id=$1", ReadFile, ct, Text(fileId))).FirstOrDefault();

    public Task MarkCompleteAsync(string fileId, bool hasThumbnail, CancellationToken ct) =>
        ExecuteAsync("UPDATE files SET complete=true, has_thumbnail=$2 WHERE file_id=$1", ct, Text(fileId), Bool(hasThumbnail));

    public async Task<bool> CanReadFileAsync(string fileId, string userId, CancellationToken ct) =>
        await ScalarAsync("""
            SELECT 1 FROM file_chats fc JOIN chat_members cm ON cm.chat_id = fc.chat_id
            WHERE fc.file_id=$1 AND cm.user_id=$2 LIMIT 1
            """, ct, Text(fileId), Text(userId)) is not null;

    public async Task<IReadOnlyList<FileRecord>> DeleteUnattachedAsync(long createdBefore, CancellationToken ct) =>
        await QueryAsync($"DELETE FROM files WHERE attached_at IS NULL AND created_at < $1 RETURNING {FileCols}", ReadFile, ct, Long(createdBefore));

    public async Task<FileUsage> GetFileUsageAsync(string ownerId, long pendingSince, CancellationToken ct) =>
        (await QueryAsync("""
            SELECT COALESCE(SUM(size) FILTER (WHERE complete), 0)::bigint, COALESCE(SUM(size) FILTER (WHERE NOT complete), 0)::bigint,
                   COUNT(*) FILTER (WHERE NOT complete)::int, MIN(created_at) FILTER (WHERE NOT complete)
            FROM files WHERE owner_id=$1 AND (complete OR created_at >= $2)
            """, r => new FileUsage(r.GetInt64(0), r.GetInt64(1), r.GetInt32(2), r.IsDBNull(3) ? null : r.GetInt64(3)), ct,
            Text(ownerId), Long(pendingSince))).Single();
}

public sealed partial class PostgresChatStore
{
    public Task<AdminChange> SetAdminAsync(string groupId, string userId, bool admin, CancellationToken ct) =>
        InTransactionAsync(async (c, tx) =>
        {
            // The chat's row lock serialises admin changes: two demotions at once cannot leave the group without an admin.
            await using (var lockChat = Cmd(c, tx, "SELECT 1 FROM chats WHERE chat_id=$1 FOR UPDATE", Text(groupId)))
                await lockChat.ExecuteScalarAsync(ct);
            bool? current;
            await using (var get = Cmd(c, tx, "SELECT is_admin FROM chat_members WHERE chat_id=$1 AND user_id=$2", Text(groupId), Text(userId)))
                current = await get.ExecuteScalarAsync(ct) is bool b ? b : null;
            if (current is null) return AdminChange.NotMember;
            if (current == admin) return AdminChange.Unchanged;
            if (!admin)
            {
                await using var count = Cmd(c, tx, "SELECT COUNT(*) FROM chat_members WHERE chat_id=$1 AND is_admin", Text(groupId));
                if (Convert.ToInt64(await count.ExecuteScalarAsync(ct)) <= 1) return AdminChange.LastAdmin;
            }
            await using var set = Cmd(c, tx, "UPDATE chat_members SET is_admin=$3 WHERE chat_id=$1 AND user_id=$2", Text(groupId), Text(userId), Bool(admin));
            await set.ExecuteNonQueryAsync(ct);
            return AdminChange.Changed;
        }, ct);

    public Task<GroupEventRecord> AppendGroupEventAsync(GroupEventRecord evt, CancellationToken ct) =>
        InTransactionAsync(async (c, tx) =>
        {
            // Under the chat's row lock (as appends take it) after_seq is exactly the last seq committed before the change.
            long afterSeq;
            await using (var lockChat = Cmd(c, tx, "SELECT last_seq FROM chats WHERE chat_id=$1 FOR UPDATE", Text(evt.GroupId)))
                afterSeq = await lockChat.ExecuteScalarAsync(ct) is long v ? v : 0;
            await using var insert = Cmd(c, tx, """
                INSERT INTO group_events(event_id, chat_id, action, user_ids, by_user, name, ts, after_seq)
                VALUES($1, $2, $3, $4, $5, $6, $7, $8)
                """, Text(evt.EventId), Text(evt.GroupId), Text(evt.Action), Texts(evt.UserIds), Text(evt.By), Text(evt.Name), Long(evt.Timestamp), Long(afterSeq));
            await insert.ExecuteNonQueryAsync(ct);
            return evt with { AfterSeq = afterSeq };
        }, ct);

    public async Task<IReadOnlyList<GroupEventRecord>> GetGroupEventsAsync(string groupId, int limit, long? afterSeq, long? beforeSeq, CancellationToken ct) =>
        await QueryAsync(afterSeq is not null
                ? "SELECT event_id, action, user_ids, by_user, name, ts, after_seq FROM group_events WHERE chat_id=$1 AND after_seq > $2 ORDER BY after_seq, pos LIMIT $4"
                : "SELECT event_id, action, user_ids, by_user, name, ts, after_seq FROM group_events WHERE chat_id=$1 AND ($3::bigint IS NULL OR after_seq < $3) ORDER BY after_seq DESC, pos DESC LIMIT $4",
            r => new GroupEventRecord(r.GetString(0), groupId, r.GetString(1), r.GetFieldValue<string[]>(2), r.GetString(3),
                r.IsDBNull(4) ? null : r.GetString(4), r.GetInt64(5), r.GetInt64(6)),
            ct, Text(groupId), Long(afterSeq ?? 0), Long(beforeSeq), Int(limit));
}
