using Microsoft.Extensions.Logging;
using Npgsql;

namespace Chat.Storage.Postgres;

/// <summary>
/// The schema, as numbered migrations applied at start-up. Every node runs this when it starts, so it must be
/// idempotent and safe when several nodes start at once: the whole check-and-apply runs in one transaction
/// holding an advisory lock (one per schema), and DDL in PostgreSQL is transactional.
/// </summary>
internal static partial class PostgresSchema
{
    /// <summary>messages (and the dedup keys) are hash-partitioned into this many partitions; see docs/storage.md.</summary>
    public const int Partitions = 16;

    // Ids and names are compared byte-wise (COLLATE "C"), exactly like SQLite: keyset paging over chat_id must order
    // the same on every node whatever the database's locale, and "C" comparisons are the cheapest.
    private static readonly string Initial = $$"""
        CREATE TABLE users(
            user_id text COLLATE "C" PRIMARY KEY,
            username text COLLATE "C" NOT NULL UNIQUE,
            display_name text NOT NULL,
            password_hash text NOT NULL,
            created_at bigint NOT NULL);
        CREATE TABLE devices(
            device_id text COLLATE "C" PRIMARY KEY,
            user_id text COLLATE "C" NOT NULL,
            device_name text NOT NULL,
            token_hash text COLLATE "C" NOT NULL UNIQUE,
            created_at bigint NOT NULL,
            last_active bigint NOT NULL,
            revoked boolean NOT NULL DEFAULT false);
        CREATE INDEX devices_user ON devices(user_id);
        CREATE TABLE chats(
            chat_id text COLLATE "C" PRIMARY KEY,
            is_group boolean NOT NULL,
            name text, description text, created_by text COLLATE "C",
            created_at bigint NOT NULL,
            last_seq bigint NOT NULL DEFAULT 0,
            updated_at bigint NOT NULL);
        CREATE TABLE chat_members(
            chat_id text COLLATE "C" NOT NULL,
            user_id text COLLATE "C" NOT NULL,
            is_admin boolean NOT NULL DEFAULT false,
            joined_seq bigint NOT NULL DEFAULT 0,
            joined_at bigint NOT NULL,
            read_seq bigint NOT NULL DEFAULT 0,
            PRIMARY KEY(chat_id, user_id));
        CREATE INDEX chat_members_user ON chat_members(user_id, chat_id);

        -- Messages live in (chat_id, seq) order and are partitioned by chat_id: one chat's history is always in one
        -- partition (one shard in a sharded deployment).
        CREATE TABLE messages(
            chat_id text COLLATE "C" NOT NULL,
            seq bigint NOT NULL,
            message_id text COLLATE "C" NOT NULL,
            sender_id text COLLATE "C" NOT NULL,
            sender_device text COLLATE "C" NOT NULL,
            client_msg_id text COLLATE "C" NOT NULL,
            content text NOT NULL,
            file_id text COLLATE "C",
            ts bigint NOT NULL,
            PRIMARY KEY(chat_id, seq)) PARTITION BY HASH(chat_id);
        CREATE INDEX messages_id ON messages(message_id);
        CREATE INDEX messages_ts ON messages(chat_id, ts);

        -- Dedup on (sender, client_msg_id), enforced by this primary key. A unique index on a partitioned table must
        -- contain the partition key, so it cannot live on messages (partitioned by chat): it is its own table, keyed and
        -- partitioned by sender, pointing at the stored message.
        CREATE TABLE message_keys(
            sender_id text COLLATE "C" NOT NULL,
            client_msg_id text COLLATE "C" NOT NULL,
            chat_id text COLLATE "C" NOT NULL,
            message_id text COLLATE "C" NOT NULL,
            PRIMARY KEY(sender_id, client_msg_id)) PARTITION BY HASH(sender_id);

        CREATE TABLE device_pointers(
            device_id text COLLATE "C" NOT NULL,
            chat_id text COLLATE "C" NOT NULL,
            user_id text COLLATE "C" NOT NULL,
            delivered_seq bigint NOT NULL,
            PRIMARY KEY(device_id, chat_id));
        CREATE INDEX device_pointers_chat ON device_pointers(chat_id, user_id);
        CREATE TABLE files(
            file_id text COLLATE "C" PRIMARY KEY,
            owner_id text COLLATE "C" NOT NULL,
            file_name text NOT NULL,
            content_type text NOT NULL,
            size bigint NOT NULL,
            created_at bigint NOT NULL,
            complete boolean NOT NULL DEFAULT false,
            has_thumbnail boolean NOT NULL DEFAULT false,
            attached_at bigint);
        CREATE INDEX files_unattached ON files(created_at) WHERE attached_at IS NULL;
        CREATE TABLE file_chats(
            file_id text COLLATE "C" NOT NULL,
            chat_id text COLLATE "C" NOT NULL,
            PRIMARY KEY(file_id, chat_id));
        {{PartitionDdl("messages")}}
        {{PartitionDdl("message_keys")}}
        """;

    private static string PartitionDdl(string table) => string.Concat(Enumerable.Range(0, Partitions).Select(i =>
        $"CREATE TABLE {table}_p{i:00} PARTITION OF {table} FOR VALUES WITH (MODULUS {Partitions}, REMAINDER {i});\n"));

    /// <summary>Append only: a released migration is never edited, a change is a new entry.</summary>
    private static readonly string[] Migrations = [Initial, RichMessages, Notifications, Search, GroupEvents, FileQuota, Privacy, Invites];

    /// <summary>Version 6: a user's file usage (the storage quota) is summed from this index alone.</summary>
    private const string FileQuota = "CREATE INDEX files_owner ON files(owner_id, complete, created_at, size);";

    public static int LatestVersion => Migrations.Length;

    /// <summary>Brings the schema on the connection's search path up to date; returns the versions applied (none when current).</summary>
    public static async Task<int> MigrateAsync(NpgsqlDataSource db, ILogger log, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // Per schema (not per database), so that schemas side by side — tests, tenants — do not wait for each other.
        await using (var lockCmd = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':chat-schema'))", conn, tx))
            await lockCmd.ExecuteNonQueryAsync(ct);
        await using (var table = new NpgsqlCommand(
            "CREATE TABLE IF NOT EXISTS schema_migrations(version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())", conn, tx))
            await table.ExecuteNonQueryAsync(ct);
        int current;
        await using (var get = new NpgsqlCommand("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", conn, tx))
            current = Convert.ToInt32(await get.ExecuteScalarAsync(ct));
        if (current > Migrations.Length)
            throw new InvalidOperationException(
                $"The PostgreSQL schema is at version {current}, newer than this build knows ({Migrations.Length}): run a newer build of the server.");
        for (int v = current + 1; v <= Migrations.Length; v++)
        {
            await using (var ddl = new NpgsqlCommand(Migrations[v - 1], conn, tx))
                await ddl.ExecuteNonQueryAsync(ct);
            await using var mark = new NpgsqlCommand("INSERT INTO schema_migrations(version) VALUES($1)", conn, tx) { Parameters = { new() { Value = v } } };
            await mark.ExecuteNonQueryAsync(ct);
            LogMigrated(log, v);
        }
        await tx.CommitAsync(ct);
        return Migrations.Length - current;
    }

    [LoggerMessage(5001, LogLevel.Information, "PostgreSQL schema migrated to version {Version}")]
    private static partial void LogMigrated(ILogger logger, int version);
}
