namespace Chat.Storage.Postgres;

internal static partial class PostgresSchema
{
    /// <summary>Version 8: admin-made invites (Chat:Auth:Registration=invite); only the SHA-256 of a code is stored.</summary>
    private const string Invites = """
        CREATE TABLE invites(
            invite_id text COLLATE "C" PRIMARY KEY,
            code_hash text COLLATE "C" NOT NULL UNIQUE,
            created_by text COLLATE "C" NOT NULL,
            created_at bigint NOT NULL,
            expires_at bigint NOT NULL,
            max_uses int NOT NULL,
            uses int NOT NULL DEFAULT 0);
        """;
}
