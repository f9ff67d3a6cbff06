namespace Chat.Storage.Postgres;

internal static partial class PostgresSchema
{
    /// <summary>
    /// Version 7, v1.1 privacy: one row per (blocker, blocked), the second index answers "who blocked me"; the
    /// privacy switches of the users who changed one.
    /// </summary>
    private const string Privacy = """
        CREATE TABLE user_blocks(
            user_id text COLLATE "C" NOT NULL,
            blocked_id text COLLATE "C" NOT NULL,
            created_at bigint NOT NULL,
            PRIMARY KEY(user_id, blocked_id));
        CREATE INDEX user_blocks_blocked ON user_blocks(blocked_id, user_id);
        CREATE TABLE user_privacy(
            user_id text COLLATE "C" PRIMARY KEY,
            send_read_receipts boolean NOT NULL,
            share_presence boolean NOT NULL);
        """;
}
