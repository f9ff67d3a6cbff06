using Chat.Core.Storage;

namespace Chat.Storage.Postgres;

// v1.1 privacy: blocks and switches; tables from PostgresSchema.Privacy.
public sealed partial class PostgresChatStore
{
    public Task BlockAsync(string userId, string blockedId, long now, CancellationToken ct) =>
        ExecuteAsync("INSERT INTO user_blocks(user_id, blocked_id, created_at) VALUES($1, $2, $3) ON CONFLICT DO NOTHING", ct,
            Text(userId), Text(blockedId), Long(now));

    public Task UnblockAsync(string userId, string blockedId, CancellationToken ct) =>
        ExecuteAsync("DELETE FROM user_blocks WHERE user_id=$1 AND blocked_id=$2", ct, Text(userId), Text(blockedId));

    public async Task<IReadOnlyList<string>> ListBlockedAsync(string userId, CancellationToken ct) =>
        await QueryAsync("SELECT blocked_id FROM user_blocks WHERE user_id=$1 ORDER BY created_at, blocked_id", r => r.GetString(0), ct, Text(userId));

    public async Task<IReadOnlyList<string>> GetBlockersAsync(string blockedId, IReadOnlyCollection<string> userIds, CancellationToken ct) =>
        userIds.Count == 0 ? [] : await QueryAsync("SELECT user_id FROM user_blocks WHERE blocked_id=$1 AND user_id = ANY($2)",
            r => r.GetString(0), ct, Text(blockedId), Texts(userIds.Distinct()));

    public Task SetPrivacyAsync(string userId, PrivacySettings settings, CancellationToken ct) =>
        ExecuteAsync("""
            INSERT INTO user_privacy(user_id, send_read_receipts, share_presence) VALUES($1, $2, $3)
            ON CONFLICT(user_id) DO UPDATE SET send_read_receipts=excluded.send_read_receipts, share_presence=excluded.share_presence
            """, ct, Text(userId), Bool(settings.SendReadReceipts), Bool(settings.SharePresence));

    public async Task<IReadOnlyDictionary<string, PrivacySettings>> GetPrivacyAsync(IReadOnlyCollection<string> userIds, CancellationToken ct) =>
        userIds.Count == 0 ? new Dictionary<string, PrivacySettings>() : (await QueryAsync(
            "SELECT user_id, send_read_receipts, share_presence FROM user_privacy WHERE user_id = ANY($1)",
            r => (Id: r.GetString(0), Settings: new PrivacySettings(r.GetBoolean(1), r.GetBoolean(2))), ct, Texts(userIds.Distinct())))
            .ToDictionary(x => x.Id, x => x.Settings);
}
