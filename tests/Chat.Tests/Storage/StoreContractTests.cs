using Chat.Core.Storage;
using Chat.Storage.Postgres;
using Chat.Storage.Sqlite;

namespace Chat.Tests.Storage;

/// <summary>The contract against the embedded store: a fresh database file per test.</summary>
public sealed class SqliteStoreContractTests : StoreContract
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "chat-store-tests", Guid.NewGuid().ToString("N"));

    protected override Task<IChatStore> OpenStoreAsync() => Task.FromResult<IChatStore>(new SqliteChatStore(Path.Combine(_dir, "chat.db")));

    protected override bool InstancesShareTheDatabase => false;

    protected override async Task<long> CountRowsContainingAsync(string needle)
    {
        await using var c = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_dir, "chat.db")};Pooling=False");
        await c.OpenAsync();
        await using var cmd = c.CreateCommand();
        cmd.CommandText = """
            SELECT (SELECT COUNT(*) FROM messages WHERE instr(content, @n) > 0) + (SELECT COUNT(*) FROM message_edits WHERE instr(content, @n) > 0)
                 + (SELECT COUNT(*) FROM message_reactions)
            """;
        cmd.Parameters.AddWithValue("@n", needle);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }

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

/// <summary>The contract against PostgreSQL (CHAT_PG): a fresh schema per test, dropped afterwards.</summary>
[RequiresPostgres]
public sealed class PostgresStoreContractTests : StoreContract
{
    private PostgresTestDatabase.FreshSchema? _schema;

    protected override async Task<IChatStore> OpenStoreAsync()
    {
        _schema ??= await PostgresTestDatabase.CreateSchemaAsync();
        return await PostgresChatStore.OpenAsync(_schema.ConnectionString);
    }

    protected override async Task<long> CountRowsContainingAsync(string needle)
    {
        await using var c = new Npgsql.NpgsqlConnection(_schema!.ConnectionString);
        await c.OpenAsync();
        await using var cmd = new Npgsql.NpgsqlCommand("""
            SELECT (SELECT COUNT(*) FROM messages WHERE strpos(content, $1) > 0) + (SELECT COUNT(*) FROM message_edits WHERE strpos(content, $1) > 0)
                 + (SELECT COUNT(*) FROM message_reactions)
            """, c) { Parameters = { new() { Value = needle } } };
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }

    protected override async Task DropDatabaseAsync()
    {
        if (_schema is not null) await _schema.DisposeAsync();
    }
}
