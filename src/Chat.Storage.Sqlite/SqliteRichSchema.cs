using Microsoft.Data.Sqlite;

namespace Chat.Storage.Sqlite;

/// <summary>
/// v1.1 rich messages: a revision per chat, the message's change state, reactions and edit history. Additive:
/// columns are added when missing (databases created before v1.1 get them on their first start), tables and indexes
/// with IF NOT EXISTS.
/// </summary>
internal static class SqliteRichSchema
{
    private static readonly (string Table, string Column, string Definition)[] Columns =
    [
        ("chats", "rev", "INTEGER NOT NULL DEFAULT 0"),
        ("messages", "rev", "INTEGER NOT NULL DEFAULT 0"),
        ("messages", "edited_at", "INTEGER"),
        ("messages", "deleted", "INTEGER NOT NULL DEFAULT 0"),
        ("messages", "reply_to_seq", "INTEGER"),
        // Mentioned user ids separated by spaces ('' for none): read with the message, no join on the hot path.
        ("messages", "mentions", "TEXT NOT NULL DEFAULT ''"),
    ];

    private const string Tables = """
        -- Only changed messages are indexed (rev > 0): a plain new message costs no extra index entry.
        CREATE INDEX IF NOT EXISTS messages_rev ON messages(chat_id, rev) WHERE rev > 0;
        CREATE TABLE IF NOT EXISTS message_reactions(
            chat_id TEXT NOT NULL, seq INTEGER NOT NULL, emoji TEXT NOT NULL, user_id TEXT NOT NULL, rev INTEGER NOT NULL,
            PRIMARY KEY(chat_id, seq, emoji, user_id)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS message_edits(
            chat_id TEXT NOT NULL, seq INTEGER NOT NULL, rev INTEGER NOT NULL, content TEXT NOT NULL, edited_at INTEGER NOT NULL,
            PRIMARY KEY(chat_id, seq, rev)) WITHOUT ROWID;
        """;

    public static void Apply(SqliteConnection c)
    {
        foreach (var (table, column, definition) in Columns)
        {
            if (HasColumn(c, table, column)) continue;
            using var alter = c.CreateCommand();
            alter.CommandText = $"ALTER TABLE {table} ADD COLUMN {column} {definition}";
            alter.ExecuteNonQuery();
        }
        using var cmd = c.CreateCommand();
        cmd.CommandText = Tables;
        cmd.ExecuteNonQuery();
    }

    private static bool HasColumn(SqliteConnection c, string table, string column)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name=@n";
        cmd.Parameters.AddWithValue("@n", column);
        return Convert.ToInt64(cmd.ExecuteScalar()) > 0;
    }
}
