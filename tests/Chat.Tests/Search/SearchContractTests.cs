using Chat.Core.Storage;
using Chat.Storage.Postgres;
using Chat.Storage.Sqlite;
using Chat.Tests.Storage;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Chat.Tests.Search;

/// <summary>The search contract on the embedded store (FTS5): a fresh database file per test.</summary>
public sealed class SqliteSearchContractTests : SearchContract
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "chat-search-tests", Guid.NewGuid().ToString("N"));
    private string DbPath => Path.Combine(_dir, "chat.db");

    protected override Task<IChatStore> OpenStoreAsync() => Task.FromResult<IChatStore>(new SqliteChatStore(DbPath));

    private async Task ExecAsync(string sql, params (string, object)[] args)
    {
        await using var c = new SqliteConnection($"Data Source={DbPath};Pooling=False;Default Timeout=30");
        await c.OpenAsync();
        await using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (name, value) in args) cmd.Parameters.AddWithValue(name, value);
        await cmd.ExecuteNonQueryAsync();
    }

    protected override Task SetContentAsync(string chatId, long seq, string content) =>
        ExecAsync("UPDATE messages SET content=@t WHERE chat_id=@c AND seq=@s", ("@t", content), ("@c", chatId), ("@s", seq));

    // What a database of the previous version holds: messages without search_id, no FTS table, no triggers.
    protected override Task ForgetSearchIndexAsync() => ExecAsync("""
        DROP TRIGGER messages_search_insert; DROP TRIGGER messages_search_update; DROP TRIGGER messages_search_delete;
        DROP TABLE message_fts; DROP TABLE search_backfill;
        DROP TABLE IF EXISTS message_fts_data; DROP TABLE IF EXISTS message_fts_idx; DROP TABLE IF EXISTS message_fts_content;
        DROP TABLE IF EXISTS message_fts_docsize; DROP TABLE IF EXISTS message_fts_config;
        ALTER TABLE messages DROP COLUMN search_id;
        """);

    protected override Task DropDatabaseAsync()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
        return Task.CompletedTask;
    }
}

/// <summary>The search contract on PostgreSQL (CHAT_PG): a fresh schema per test.</summary>
[RequiresPostgres]
public sealed class PostgresSearchContractTests : SearchContract
{
    private PostgresTestDatabase.FreshSchema? _schema;

    protected override async Task<IChatStore> OpenStoreAsync()
    {
        _schema ??= await PostgresTestDatabase.CreateSchemaAsync();
        return await PostgresChatStore.OpenAsync(_schema.ConnectionString);
    }

    private async Task ExecAsync(string sql, params object[] args)
    {
        await using var c = new NpgsqlConnection(_schema!.ConnectionString);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, c);
        foreach (object a in args) cmd.Parameters.Add(new NpgsqlParameter { Value = a });
        await cmd.ExecuteNonQueryAsync();
    }

    protected override Task SetContentAsync(string chatId, long seq, string content) =>
        ExecAsync("UPDATE messages SET content=$1 WHERE chat_id=$2 AND seq=$3", content, chatId, seq);

    // Rows stored before migration 2 have no tsvector; the marker says the backfill has not run.
    protected override Task ForgetSearchIndexAsync() => ExecAsync("UPDATE messages SET search = NULL; INSERT INTO search_backfill VALUES(1)");

    protected override async Task DropDatabaseAsync()
    {
        if (_schema is not null) await _schema.DisposeAsync();
    }
}
