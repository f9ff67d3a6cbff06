using Chat.Core.Storage;

namespace Chat.Storage.Sqlite;

public sealed partial class SqliteChatStore
{
    public Task CreateGroupAsync(GroupRecord g, CancellationToken ct) => WriteAsync((c, tx) =>
    {
        using (var cmd = Cmd(c, """
            INSERT INTO chats(chat_id, is_group, name, description, created_by, created_at, last_seq, updated_at)
            VALUES(@id, 1, @name, @desc, @by, @at, 0, @at)
            """, tx, ("@id", g.GroupId), ("@name", g.Name), ("@desc", g.Description), ("@by", g.CreatedBy), ("@at", g.CreatedAt)))
            cmd.ExecuteNonQuery();
        using var member = Cmd(c, "INSERT INTO chat_members(chat_id, user_id, is_admin, joined_seq, joined_at) VALUES(@c, @u, @admin, 0, @at)", tx,
            ("@c", g.GroupId), ("@u", ""), ("@admin", 0), ("@at", g.CreatedAt));
        foreach (string u in g.Members)
        {
            member.Parameters["@u"].Value = u;
            member.Parameters["@admin"].Value = g.Admins.Contains(u) ? 1 : 0;
            member.ExecuteNonQuery();
        }
        return 0;
    }, ct);

    public async Task<GroupRecord?> GetGroupAsync(string groupId, CancellationToken ct)
    {
        await using var c = await OpenReaderAsync(ct);
        GroupRecord? g = null;
        await using (var cmd = Cmd(c, "SELECT name, description, created_by, created_at FROM chats WHERE chat_id=@id AND is_group=1", null, ("@id", groupId)))
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            if (!await r.ReadAsync(ct)) return null;
            g = new GroupRecord(groupId, r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3), [], []);
        }
        var members = new List<string>();
        var admins = new List<string>();
        await using (var cmd = Cmd(c, "SELECT user_id, is_admin FROM chat_members WHERE chat_id=@id ORDER BY joined_at, user_id", null, ("@id", groupId)))
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                members.Add(r.GetString(0));
                if (r.GetInt64(1) == 1) admins.Add(r.GetString(0));
            }
        }
        return g with { Members = members, Admins = admins };
    }

    public Task UpdateGroupAsync(string groupId, string? name, string? description, CancellationToken ct) => WriteAsync((c, tx) =>
    {
        using var cmd = Cmd(c, "UPDATE chats SET name=COALESCE(@n, name), description=COALESCE(@d, description) WHERE chat_id=@id AND is_group=1", tx,
            ("@n", name), ("@d", description), ("@id", groupId));
        return cmd.ExecuteNonQuery();
    }, ct);

    public Task<IReadOnlyList<string>?> AddMembersAsync(string groupId, IReadOnlyCollection<string> userIds, int maxMembers, long now, CancellationToken ct) =>
        WriteAsync<IReadOnlyList<string>?>((c, tx) =>
        {
            var existing = new HashSet<string>(StringComparer.Ordinal);
            using (var cmd = Cmd(c, "SELECT user_id FROM chat_members WHERE chat_id=@id", tx, ("@id", groupId)))
            using (var r = cmd.ExecuteReader())
                while (r.Read()) existing.Add(r.GetString(0));
            var added = userIds.Where(u => !existing.Contains(u)).Distinct().ToList();
            if (existing.Count + added.Count > maxMembers) return null;
            using var insert = Cmd(c, """
                INSERT INTO chat_members(chat_id, user_id, is_admin, joined_seq, joined_at)
                VALUES(@c, @u, 0, (SELECT COALESCE(MAX(seq), 0) FROM messages WHERE chat_id=@c), @at)
                """, tx, ("@c", groupId), ("@u", ""), ("@at", now));
            foreach (string u in added)
            {
                insert.Parameters["@u"].Value = u;
                insert.ExecuteNonQuery();
            }
            using (var touch = Cmd(c, "UPDATE chats SET updated_at=MAX(updated_at, @at) WHERE chat_id=@c", tx, ("@c", groupId), ("@at", now)))
                touch.ExecuteNonQuery();
            return added;
        }, ct);

    public Task<bool> RemoveMemberAsync(string groupId, string userId, CancellationToken ct) => WriteAsync((c, tx) =>
    {
        using var cmd = Cmd(c, "DELETE FROM chat_members WHERE chat_id=@c AND user_id=@u", tx, ("@c", groupId), ("@u", userId));
        if (cmd.ExecuteNonQuery() == 0) return false;
        using var pointers = Cmd(c, "DELETE FROM device_pointers WHERE chat_id=@c AND user_id=@u", tx, ("@c", groupId), ("@u", userId));
        pointers.ExecuteNonQuery();
        // A group never stays without an admin: the longest-standing member takes over from the last one.
        using var promote = Cmd(c, """
            UPDATE chat_members SET is_admin=1
            WHERE chat_id=@c AND NOT EXISTS (SELECT 1 FROM chat_members WHERE chat_id=@c AND is_admin=1)
              AND user_id = (SELECT user_id FROM chat_members WHERE chat_id=@c ORDER BY joined_at, user_id LIMIT 1)
            """, tx, ("@c", groupId));
        promote.ExecuteNonQuery();
        return true;
    }, ct);

    public async Task<IReadOnlyList<string>> GetMembersAsync(string chatId, CancellationToken ct) =>
        await QueryAsync("SELECT user_id FROM chat_members WHERE chat_id=@c ORDER BY joined_at, user_id", r => r.GetString(0), ct, ("@c", chatId));

    public async Task<IReadOnlyList<ChatSummaryRecord>> ListChatsAsync(string userId, int limit, long? beforeUpdatedAt, CancellationToken ct) =>
        await QueryAsync("""
            WITH mine AS (
                SELECT c.chat_id, c.is_group, c.name, c.updated_at AS touched, cm.read_seq, c.rev AS chat_rev,
                       (SELECT MAX(x.seq) FROM messages x WHERE x.chat_id = c.chat_id) AS last_seq
                FROM chat_members cm JOIN chats c ON c.chat_id = cm.chat_id
                WHERE cm.user_id=@u),
            listed AS (
                SELECT mine.*, MAX(mine.touched, COALESCE(m.ts, 0)) AS updated_at,
                       m.message_id, m.sender_id, m.sender_device, m.client_msg_id, m.content, m.file_id, m.ts,
                       m.rev, m.edited_at, m.deleted, m.reply_to_seq, m.mentions
                FROM mine LEFT JOIN messages m ON m.chat_id = mine.chat_id AND m.seq = mine.last_seq
                WHERE mine.is_group=1 OR mine.last_seq IS NOT NULL)
            SELECT chat_id, is_group, name, updated_at, read_seq,
                   CASE WHEN is_group=1 THEN (SELECT COUNT(*) FROM chat_members x WHERE x.chat_id=listed.chat_id) ELSE 2 END,
                   (SELECT COUNT(*) FROM messages u WHERE u.chat_id=listed.chat_id AND u.seq > listed.read_seq AND u.sender_id <> @u AND u.deleted = 0),
                   message_id, last_seq, sender_id, sender_device, client_msg_id, content, file_id, ts,
                   rev, edited_at, deleted, reply_to_seq, mentions, chat_rev,
                   (SELECT COUNT(*) FROM messages u WHERE u.chat_id=listed.chat_id AND u.seq > listed.read_seq AND u.sender_id <> @u AND u.deleted = 0
                        AND u.mentions <> '' AND instr(' ' || u.mentions || ' ', ' ' || @u || ' ') > 0)
            FROM listed
            WHERE @before IS NULL OR updated_at < @before
            ORDER BY updated_at DESC, chat_id
            LIMIT @limit
            """, r => new ChatSummaryRecord(
                r.GetString(0), r.GetInt64(1) == 1, NullableString(r, 2), (int)r.GetInt64(5),
                r.IsDBNull(7) ? null : new StoredMessage(r.GetString(7), r.GetString(0), r.GetInt64(8), r.GetString(9), r.GetString(10),
                    r.GetString(11), r.GetString(12), NullableString(r, 13), r.GetInt64(14))
                {
                    Rev = r.GetInt64(15),
                    EditedAt = r.IsDBNull(16) ? null : r.GetInt64(16),
                    Deleted = r.GetInt64(17) != 0,
                    ReplyToSeq = r.IsDBNull(18) ? null : r.GetInt64(18),
                    Mentions = SplitMentions(r.GetString(19)),
                },
                r.GetInt64(4), r.GetInt64(6), r.GetInt64(3))
        {
            Rev = r.GetInt64(20),
            MentionCount = r.GetInt64(21),
        },
            ct, ("@u", userId), ("@before", beforeUpdatedAt), ("@limit", limit));
}

public sealed partial class SqliteChatStore
{
    /// <summary>Group timeline events (v1.1): ordered by after_seq then insertion; no seq of their own.</summary>
    private const string GroupEventsSchema = """
        CREATE TABLE IF NOT EXISTS group_events(
            pos INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE, chat_id TEXT NOT NULL, action TEXT NOT NULL,
            user_ids TEXT NOT NULL, by_user TEXT NOT NULL, name TEXT, ts INTEGER NOT NULL, after_seq INTEGER NOT NULL);
        CREATE INDEX IF NOT EXISTS group_events_chat ON group_events(chat_id, after_seq, pos);
        """;

    public Task<AdminChange> SetAdminAsync(string groupId, string userId, bool admin, CancellationToken ct) => WriteAsync((c, tx) =>
    {
        long? current;
        using (var get = Cmd(c, "SELECT is_admin FROM chat_members WHERE chat_id=@c AND user_id=@u", tx, ("@c", groupId), ("@u", userId)))
            current = get.ExecuteScalar() is long v ? v : null;
        if (current is null) return AdminChange.NotMember;
        if ((current == 1) == admin) return AdminChange.Unchanged;
        if (!admin)
        {
            using var count = Cmd(c, "SELECT COUNT(*) FROM chat_members WHERE chat_id=@c AND is_admin=1", tx, ("@c", groupId));
            if (Convert.ToInt64(count.ExecuteScalar()) <= 1) return AdminChange.LastAdmin;
        }
        using var set = Cmd(c, "UPDATE chat_members SET is_admin=@a WHERE chat_id=@c AND user_id=@u", tx, ("@a", admin ? 1 : 0), ("@c", groupId), ("@u", userId));
        set.ExecuteNonQuery();
        return AdminChange.Changed;
    }, ct);

    public Task<GroupEventRecord> AppendGroupEventAsync(GroupEventRecord evt, CancellationToken ct) => WriteAsync((c, tx) =>
    {
        // The single writer serialises this with appends: after_seq is exactly the last seq stored before the change.
        long afterSeq;
        using (var last = Cmd(c, "SELECT COALESCE(MAX(seq), 0) FROM messages WHERE chat_id=@c", tx, ("@c", evt.GroupId)))
            afterSeq = Convert.ToInt64(last.ExecuteScalar());
        using var insert = Cmd(c, """
            INSERT INTO group_events(event_id, chat_id, action, user_ids, by_user, name, ts, after_seq)
            VALUES(@id, @c, @a, @u, @by, @n, @ts, @after)
            """, tx, ("@id", evt.EventId), ("@c", evt.GroupId), ("@a", evt.Action), ("@u", string.Join(' ', evt.UserIds)),
            ("@by", evt.By), ("@n", evt.Name), ("@ts", evt.Timestamp), ("@after", afterSeq));
        insert.ExecuteNonQuery();
        return evt with { AfterSeq = afterSeq };
    }, ct);

    public async Task<IReadOnlyList<GroupEventRecord>> GetGroupEventsAsync(string groupId, int limit, long? afterSeq, long? beforeSeq, CancellationToken ct) =>
        await QueryAsync(afterSeq is not null
                ? "SELECT event_id, action, user_ids, by_user, name, ts, after_seq FROM group_events WHERE chat_id=@c AND after_seq > @after ORDER BY after_seq, pos LIMIT @limit"
                : "SELECT event_id, action, user_ids, by_user, name, ts, after_seq FROM group_events WHERE chat_id=@c AND (@before IS NULL OR after_seq < @before) ORDER BY after_seq DESC, pos DESC LIMIT @limit",
            r => new GroupEventRecord(r.GetString(0), groupId, r.GetString(1), r.GetString(2).Split(' ', StringSplitOptions.RemoveEmptyEntries),
                r.GetString(3), r.IsDBNull(4) ? null : r.GetString(4), r.GetInt64(5), r.GetInt64(6)),
            ct, ("@c", groupId), ("@after", afterSeq), ("@before", beforeSeq), ("@limit", limit));
}
