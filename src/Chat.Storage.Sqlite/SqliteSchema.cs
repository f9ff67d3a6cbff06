namespace Chat.Storage.Sqlite;

internal static class SqliteSchema
{
    public const string Create = """
        CREATE TABLE IF NOT EXISTS users(
            user_id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE, display_name TEXT NOT NULL,
            password_hash TEXT NOT NULL, created_at INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS devices(
            device_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, device_name TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,
            created_at INTEGER NOT NULL, last_active INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
        CREATE INDEX IF NOT EXISTS devices_user ON devices(user_id);
        CREATE TABLE IF NOT EXISTS chats(
            chat_id TEXT PRIMARY KEY, is_group INTEGER NOT NULL, name TEXT, description TEXT, created_by TEXT,
            created_at INTEGER NOT NULL, last_seq INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS chat_members(
            chat_id TEXT NOT NULL, user_id TEXT NOT NULL, is_admin INTEGER NOT NULL DEFAULT 0,
            joined_seq INTEGER NOT NULL DEFAULT 0, joined_at INTEGER NOT NULL, read_seq INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY(chat_id, user_id)) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS chat_members_user ON chat_members(user_id, chat_id);
        CREATE TABLE IF NOT EXISTS messages(
            chat_id TEXT NOT NULL, seq INTEGER NOT NULL, message_id TEXT NOT NULL, sender_id TEXT NOT NULL,
            sender_device TEXT NOT NULL, client_msg_id TEXT NOT NULL, content TEXT NOT NULL, file_id TEXT, ts INTEGER NOT NULL,
            PRIMARY KEY(chat_id, seq)) WITHOUT ROWID;
        CREATE UNIQUE INDEX IF NOT EXISTS messages_id ON messages(message_id);
        CREATE UNIQUE INDEX IF NOT EXISTS messages_dedup ON messages(sender_id, client_msg_id);
        DROP INDEX IF EXISTS messages_ts;
        CREATE TABLE IF NOT EXISTS device_pointers(
            chat_id TEXT NOT NULL, user_id TEXT NOT NULL, device_id TEXT NOT NULL, delivered_seq INTEGER NOT NULL,
            PRIMARY KEY(chat_id, user_id, device_id)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS files(
            file_id TEXT PRIMARY KEY, owner_id TEXT NOT NULL, file_name TEXT NOT NULL, content_type TEXT NOT NULL,
            size INTEGER NOT NULL, created_at INTEGER NOT NULL, complete INTEGER NOT NULL DEFAULT 0,
            has_thumbnail INTEGER NOT NULL DEFAULT 0, attached_at INTEGER);
        CREATE INDEX IF NOT EXISTS files_unattached ON files(created_at) WHERE attached_at IS NULL;
        CREATE INDEX IF NOT EXISTS files_owner ON files(owner_id, complete, created_at, size);
        CREATE TABLE IF NOT EXISTS file_chats(file_id TEXT NOT NULL, chat_id TEXT NOT NULL, PRIMARY KEY(file_id, chat_id)) WITHOUT ROWID;
        """;

    /// <summary>
    /// Databases created before device_pointers was keyed by chat: every pointer write then changed two B-trees (the
    /// table and its chat index) instead of one. Rebuilt once, in one transaction; a no-op on newer databases.
    /// </summary>
    public const string MigratePointers = """
        BEGIN IMMEDIATE;
        CREATE TABLE device_pointers_by_chat(
            chat_id TEXT NOT NULL, user_id TEXT NOT NULL, device_id TEXT NOT NULL, delivered_seq INTEGER NOT NULL,
            PRIMARY KEY(chat_id, user_id, device_id)) WITHOUT ROWID;
        INSERT INTO device_pointers_by_chat(chat_id, user_id, device_id, delivered_seq)
            SELECT chat_id, user_id, device_id, delivered_seq FROM device_pointers;
        DROP TABLE device_pointers;
        ALTER TABLE device_pointers_by_chat RENAME TO device_pointers;
        COMMIT;
        """;
}
