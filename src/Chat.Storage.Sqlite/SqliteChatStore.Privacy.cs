using Chat.Core.Storage;

namespace Chat.Storage.Sqlite;

// v1.1 privacy: blocks (one row per (blocker, blocked)) and the switches of users who changed one.
public sealed partial class SqliteChatStore
{
    /// <summary>Additive DDL, run at every open (older databases gain the table on first start).</summary>
    private const string PrivacySchema = """
        CREATE TABLE IF NOT EXISTS user_blocks(
            user_id TEXT NOT NULL, blocked_id TEXT NOT NULL, created_at INTEGER NOT NULL,
            PRIMARY KEY(user_id, blocked_id)) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS user_blocks_blocked ON user_blocks(blocked_id, user_id);
        CREATE TABLE IF NOT EXISTS user_privacy(
            user_id TEXT PRIMARY KEY, send_read_receipts INTEGER NOT NULL, share_presence INTEGER NOT NULL);
        """;

    public Task BlockAsync(string userId, string blockedId, long now, CancellationToken ct) => WriteAsync((c, tx) =>
    {
        using var cmd = Cmd(c, "INSERT OR IGNORE INTO user_blocks(user_id, blocked_id, created_at) VALUES(@u, @b, @t)", tx,
            ("@u", userId), ("@b", blockedId), ("@t", now));
        return cmd.ExecuteNonQuery();
    }, ct);

    public Task UnblockAsync(string userId, string blockedId, CancellationToken ct) => WriteAsync((c, tx) =>
    {
        using var cmd = Cmd(c, "DELETE FROM user_blocks WHERE user_id=@u AND blocked_id=@b", tx, ("@u", userId), ("@b", blockedId));
        return cmd.ExecuteNonQuery();
    }, ct);

    public async Task<IReadOnlyList<string>> ListBlockedAsync(string userId, CancellationToken ct) =>
        await QueryAsync("SELECT blocked_id FROM user_blocks WHERE user_id=@u ORDER BY created_at, blocked_id", r => r.GetString(0), ct, ("@u", userId));

    public async Task<IReadOnlyList<string>> GetBlockersAsync(string blockedId, IReadOnlyCollection<string> userIds, CancellationToken ct) =>
        await QueryInAsync("SELECT user_id FROM user_blocks WHERE blocked_id=@b AND user_id IN (@keys)", userIds, r => r.GetString(0), ct,
            ("@b", blockedId));

    public Task SetPrivacyAsync(string userId, PrivacySettings settings, CancellationToken ct) => WriteAsync((c, tx) =>
    {
        using var cmd = Cmd(c, """
            INSERT INTO user_privacy(user_id, send_read_receipts, share_presence) VALUES(@u, @r, @p)
            ON CONFLICT(user_id) DO UPDATE SET send_read_receipts=excluded.send_read_receipts, share_presence=excluded.share_presence
            """, tx, ("@u", userId), ("@r", settings.SendReadReceipts ? 1 : 0), ("@p", settings.SharePresence ? 1 : 0));
        return cmd.ExecuteNonQuery();
    }, ct);

    public async Task<IReadOnlyDictionary<string, PrivacySettings>> GetPrivacyAsync(IReadOnlyCollection<string> userIds, CancellationToken ct) =>
        (await QueryInAsync("SELECT user_id, send_read_receipts, share_presence FROM user_privacy WHERE user_id IN (@keys)", userIds,
            r => (Id: r.GetString(0), Settings: new PrivacySettings(r.GetInt64(1) != 0, r.GetInt64(2) != 0)), ct))
        .ToDictionary(x => x.Id, x => x.Settings, StringComparer.Ordinal);
}
