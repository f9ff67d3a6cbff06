namespace Chat.Storage.Postgres;

internal static partial class PostgresSchema
{
    /// <summary>v1.1 notifications: per-chat settings and one Web Push subscription per device (docs/push.md).</summary>
    private const string Notifications = """
        CREATE TABLE chat_settings(
            user_id text COLLATE "C" NOT NULL,
            chat_id text COLLATE "C" NOT NULL,
            notify text NOT NULL,
            muted_until bigint,
            PRIMARY KEY(user_id, chat_id));
        CREATE TABLE push_subscriptions(
            device_id text COLLATE "C" PRIMARY KEY,
            user_id text COLLATE "C" NOT NULL,
            endpoint text NOT NULL,
            p256dh text NOT NULL,
            auth text NOT NULL,
            created_at bigint NOT NULL);
        CREATE INDEX push_subscriptions_user ON push_subscriptions(user_id);
        """;
}
