using Chat.Core.Notifications;
using Microsoft.Data.Sqlite;

namespace Chat.Storage.Sqlite;

// Notification settings and push subscriptions (docs/push.md).
public sealed partial class SqliteChatStore
{
    /// <summary>Additive DDL, run at every open (new tables only: older databases gain them on first start).</summary>
    internal const string NotificationsSchema = """
        CREATE TABLE IF NOT EXISTS chat_settings(
            user_id TEXT NOT NULL, chat_id TEXT NOT NULL, notify TEXT NOT NULL, muted_until INTEGER,
            PRIMARY KEY(user_id, chat_id)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS push_subscriptions(
            device_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, endpoint TEXT NOT NULL, p256dh TEXT NOT NULL,
            auth TEXT NOT NULL, created_at INTEGER NOT NULL);
        CREATE INDEX IF NOT EXISTS push_subscriptions_user ON push_subscriptions(user_id);
        """;

    private static ChatSettingsRecord ReadSettings(SqliteDataReader r) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetInt64(3));

    private const string SubscriptionCols = "device_id, user_id, endpoint, p256dh, auth, created_at";
    private static PushSubscriptionRecord ReadSubscription(SqliteDataReader r, int i) =>
        new(r.GetString(i), r.GetString(i + 1), r.GetString(i + 2), r.GetString(i + 3), r.GetString(i + 4), r.GetInt64(i + 5));

    public async Task<ChatSettingsRecord?> GetChatSettingsAsync(string userId, string chatId, CancellationToken ct) =>
        (await QueryAsync("SELECT user_id, chat_id, notify, muted_until FROM chat_settings WHERE user_id=@u AND chat_id=@c",
            ReadSettings, ct, ("@u", userId), ("@c", chatId))).FirstOrDefault();

    public async Task<IReadOnlyList<ChatSettingsRecord>> ListChatSettingsAsync(string userId, IReadOnlyCollection<string> chatIds, CancellationToken ct)
    {
        return await QueryInAsync("SELECT user_id, chat_id, notify, muted_until FROM chat_settings WHERE user_id=@u AND chat_id IN (@keys)",
            chatIds, ReadSettings, ct, ("@u", userId));
    }

    public Task SetChatSettingsAsync(ChatSettingsRecord s, CancellationToken ct) => WriteAsync((c, tx) =>
    {
        using var cmd = Cmd(c, """
            INSERT INTO chat_settings(user_id, chat_id, notify, muted_until) VALUES(@u, @c, @n, @m)
            ON CONFLICT(user_id, chat_id) DO UPDATE SET notify=excluded.notify, muted_until=excluded.muted_until
            """, tx, ("@u", s.UserId), ("@c", s.ChatId), ("@n", s.Notify), ("@m", s.MutedUntil));
        return cmd.ExecuteNonQuery();
    }, ct);

    public Task SavePushSubscriptionAsync(PushSubscriptionRecord p, CancellationToken ct) => WriteAsync((c, tx) =>
    {
        using var cmd = Cmd(c, $"INSERT OR REPLACE INTO push_subscriptions({SubscriptionCols}) VALUES(@d, @u, @e, @k, @a, @t)", tx,
            ("@d", p.DeviceId), ("@u", p.UserId), ("@e", p.Endpoint), ("@k", p.P256dh), ("@a", p.Auth), ("@t", p.CreatedAt));
        return cmd.ExecuteNonQuery();
    }, ct);

    public async Task<PushSubscriptionRecord?> GetPushSubscriptionAsync(string deviceId, CancellationToken ct) =>
        (await QueryAsync($"SELECT {SubscriptionCols} FROM push_subscriptions WHERE device_id=@d", r => ReadSubscription(r, 0), ct, ("@d", deviceId))).FirstOrDefault();

    public Task<bool> DeletePushSubscriptionAsync(string deviceId, string? endpoint, CancellationToken ct) => WriteAsync((c, tx) =>
    {
        using var cmd = Cmd(c, "DELETE FROM push_subscriptions WHERE device_id=@d AND (@e IS NULL OR endpoint=@e)", tx, ("@d", deviceId), ("@e", endpoint));
        return cmd.ExecuteNonQuery() > 0;
    }, ct);

    public async Task<IReadOnlyList<PushTargetRecord>> GetPushTargetsAsync(string chatId, IReadOnlyCollection<string> userIds, CancellationToken ct)
    {
        return await QueryInAsync("""
            SELECT ps.device_id, ps.user_id, ps.endpoint, ps.p256dh, ps.auth, ps.created_at,
                   COALESCE(cs.notify, 'all'), cs.muted_until,
                   (SELECT COUNT(*) FROM messages u WHERE u.chat_id=@c AND u.seq > COALESCE(cm.read_seq, 0) AND u.sender_id <> ps.user_id)
            FROM push_subscriptions ps
            JOIN devices d ON d.device_id = ps.device_id AND d.revoked = 0
            LEFT JOIN chat_settings cs ON cs.user_id = ps.user_id AND cs.chat_id = @c
            LEFT JOIN chat_members cm ON cm.chat_id = @c AND cm.user_id = ps.user_id
            WHERE ps.user_id IN (@keys)
            ORDER BY ps.user_id, ps.device_id
            """, userIds, r => new PushTargetRecord(ReadSubscription(r, 0), r.GetString(6), r.IsDBNull(7) ? null : r.GetInt64(7), r.GetInt64(8)),
            ct, ("@c", chatId));
    }
}
