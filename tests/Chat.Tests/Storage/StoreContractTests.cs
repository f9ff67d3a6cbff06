using Chat.Core.Storage;
using Chat.Storage.Postgres;
using Chat.Storage.Sqlite;

namespace Chat.Tests.Storage;

/// <summary>The contract against the embedded store: a fresh database file per test.</summary>
public sealed class SqliteStoreContractTests : StoreContract
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "chat-store-tests", Guid.NewGuid().ToString("N"));

    protected override Task<IChatStore> OpenStoreAsync() => Task.FromResult<IChatStore>(new SqliteChatStore(Path.Combine(_dir, "chat.db")));

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

    protected override async Task DropDatabaseAsync()
    {
        if (_schema is not null) await _schema.DisposeAsync();
    }
}
