namespace Chat.Storage.Postgres;

internal static partial class PostgresSchema
{
    /// <summary>Group timeline events (v1.1): placed after a seq, ordered by after_seq then pos; they take no seq.</summary>
    private const string GroupEvents = """
        CREATE TABLE group_events(
            pos bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            event_id text COLLATE "C" NOT NULL UNIQUE,
            chat_id text COLLATE "C" NOT NULL,
            action text NOT NULL,
            user_ids text[] NOT NULL,
            by_user text COLLATE "C" NOT NULL,
            name text,
            ts bigint NOT NULL,
            after_seq bigint NOT NULL);
        CREATE INDEX group_events_chat ON group_events(chat_id, after_seq, pos);
        """;
}
