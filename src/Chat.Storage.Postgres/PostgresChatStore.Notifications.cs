using Chat.Core.Notifications;
using Npgsql;

namespace Chat.Storage.Postgres;

// Notification settings and push subscriptions (docs/push.md); tables from PostgresSchema.Notifications.
public sealed partial class PostgresChatStore
{
    private static ChatSettingsRecord ReadSettings(NpgsqlDataReader r) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetInt64(3));

    private const string SubscriptionCols = "device_id, user_id, endpoint, p256dh, auth, created_at";
    private static PushSubscriptionRecord ReadSubscription(NpgsqlDataReader r, int i) =>
        new(r.GetString(i), r.GetString(i + 1), r.GetString(i + 2), r.GetString(i + 3), r.GetString(i + 4), r.GetInt64(i + 5));

    public async Task<ChatSettingsRecord?> GetChatSettingsAsync(string userId, string chatId, CancellationToken ct) =>
        (await QueryAsync("SELECT user_id, chat_id, notify, muted_until FROM chat_settings WHERE user_id=$1 AND chat_id=$2",
            ReadSettings, ct, Text(userId), Text(chatId))).FirstOrDefault();

    public async Task<IReadOnlyList<ChatSettingsRecord>> ListChatSettingsAsync(string userId, IReadOnlyCollection<string> chatIds, CancellationToken ct) =>
        await QueryAsync("SELECT user_id, chat_id, notify, muted_until FROM chat_settings WHERE user_id=$1 AND chat_id = ANY($2)",
            ReadSettings, ct, Text(userId), Texts(chatIds.Distinct()));

    public Task SetChatSettingsAsync(ChatSettingsRecord s, CancellationToken ct) =>
        ExecuteAsync("""
            INSERT INTO chat_settings(user_id, chat_id, notify, muted_until) VALUES($1, $2, $3, $4)
            ON CONFLICT(user_id, chat_id) DO UPDATE SET notify=excluded.notify, muted_until=excluded.muted_until
            """, ct, Text(s.UserId), Text(s.ChatId), Text(s.Notify), Long(s.MutedUntil));

    public Task SavePushSubscriptionAsync(PushSubscriptionRecord p, CancellationToken ct) =>
        ExecuteAsync($"""
            INSERT INTO push_subscriptions({SubscriptionCols}) VALUES($1, $2, $3, $4, $5, $6)
            ON CONFLICT(device_id) DO UPDATE SET user_id=excluded.user_id, endpoint=excluded.endpoint, p256dh=excluded.p256dh,
                auth=excluded.auth, created_at=excluded.created_at
            """, ct, Text(p.DeviceId), Text(p.UserId), Text(p.Endpoint), Text(p.P256dh), Text(p.Auth), Long(p.CreatedAt));

    public async Task<PushSubscriptionRecord?> GetPushSubscriptionAsync(string deviceId, CancellationToken ct) =>
        (await QueryAsync($"SELECT {SubscriptionCols} FROM push_subscriptions WHERE device_id=$1", r => ReadSubscription(r, 0), ct, Text(deviceId))).FirstOrDefault();

    public async Task<bool> DeletePushSubscriptionAsync(string deviceId, string? endpoint, CancellationToken ct) =>
        await ExecuteAsync("DELETE FROM push_subscriptions WHERE device_id=$1 AND ($2::text IS NULL OR endpoint=$2)", ct, Text(deviceId), Text(endpoint)) > 0;

    public async Task<IReadOnlyList<PushTargetRecord>> GetPushTargetsAsync(string chatId, IReadOnlyCollection<string> userIds, CancellationToken ct) =>
        await QueryAsync("""
            SELECT ps.device_id, ps.user_id, ps.endpoint, ps.p256dh, ps.auth, ps.created_at,
                   COALESCE(cs.notify, 'all'), cs.muted_until,
                   (SELECT COUNT(*) FROM messages u WHERE u.chat_id=$1 AND u.seq > COALESCE(cm.read_seq, 0) AND u.sender_id <> ps.user_id)
            FROM push_subscriptions ps
            JOIN devices d ON d.device_id = ps.device_id AND NOT d.revoked
            LEFT JOIN chat_settings cs ON cs.user_id = ps.user_id AND cs.chat_id = $1
            LEFT JOIN chat_members cm ON cm.chat_id = $1 AND cm.user_id = ps.user_id
            WHERE ps.user_id = ANY($2)
            ORDER BY ps.user_id, ps.device_id
            """, r => new PushTargetRecord(ReadSubscription(r, 0), r.GetString(6), r.IsDBNull(7) ? null : r.GetInt64(7), r.GetInt64(8)),
            ct, Text(chatId), Texts(userIds.Distinct()));
}
