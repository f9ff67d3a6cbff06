namespace Chat.Storage.Postgres;

internal static partial class PostgresSchema
{
    /// <summary>
    /// Migration 2, v1.1 rich messages: a revision per chat (raised under the chat row's lock, like last_seq), each
    /// message's change state, reactions and edit history. Columns with constant defaults are added without a rewrite.
    /// </summary>
    private const string RichMessages = """
        ALTER TABLE chats ADD COLUMN rev bigint NOT NULL DEFAULT 0;
        ALTER TABLE messages
            ADD COLUMN rev bigint NOT NULL DEFAULT 0,
            ADD COLUMN edited_at bigint,
            ADD COLUMN deleted boolean NOT NULL DEFAULT false,
            ADD COLUMN reply_to_seq bigint,
            ADD COLUMN mentions text[] NOT NULL DEFAULT '{}';
        -- Only changed messages are indexed: a plain new message costs no extra index entry.
        CREATE INDEX messages_rev ON messages(chat_id, rev) WHERE rev > 0;
        CREATE TABLE message_reactions(
            chat_id text COLLATE "C" NOT NULL,
            seq bigint NOT NULL,
            emoji text COLLATE "C" NOT NULL,
            user_id text COLLATE "C" NOT NULL,
            rev bigint NOT NULL,
            PRIMARY KEY(chat_id, seq, emoji, user_id));
        CREATE TABLE message_edits(
            chat_id text COLLATE "C" NOT NULL,
            seq bigint NOT NULL,
            rev bigint NOT NULL,
            content text NOT NULL,
            edited_at bigint NOT NULL,
            PRIMARY KEY(chat_id, seq, rev));
        """;
}
