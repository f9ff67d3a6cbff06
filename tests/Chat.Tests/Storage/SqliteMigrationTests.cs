using Chat.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Chat.Tests.Storage;

/// <summary>A database written by an earlier version opens with its data intact.</summary>
public sealed class SqliteMigrationTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "chat-store-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Delivery_pointers_of_the_device_keyed_layout_are_kept_and_rekeyed_by_chat()
    {
        Directory.CreateDirectory(_dir);
        string path = Path.Combine(_dir, "chat.db");
        using (var old = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            old.Open();
            using var cmd = old.CreateCommand();
            cmd.CommandText = """
                CREATE TABLE device_pointers(
                    device_id TEXT NOT NULL, chat_id TEXT NOT NULL, user_id TEXT NOT NULL, delivered_seq INTEGER NOT NULL,
                    PRIMARY KEY(device_id, chat_id)) WITHOUT ROWID;
                CREATE INDEX device_pointers_chat ON device_pointers(chat_id, user_id);
                INSERT INTO device_pointers VALUES('dev1', 'chat1', 'user1', 7), ('dev2', 'chat1', 'user1', 9), ('dev3', 'chat1', 'user2', 4);
                """;
            cmd.ExecuteNonQuery();
        }

        using (var store = new SqliteChatStore(path))
        {
            Assert.Equal(9, await store.GetUserDeliveredAsync("user1", "chat1", CancellationToken.None));
            Assert.Equal(4, await store.GetUserDeliveredAsync("user2", "chat1", CancellationToken.None));
            await store.SaveDeliveredAsync([new("dev1", "user1", "chat1", 12)], CancellationToken.None);
            Assert.Equal(12, await store.GetUserDeliveredAsync("user1", "chat1", CancellationToken.None));
        }

        using var check = new SqliteConnection($"Data Source={path};Pooling=False");
        check.Open();
        using var q = check.CreateCommand();
        q.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('device_pointers_chat', 'device_pointers_by_chat')";
        Assert.Equal(0L, q.ExecuteScalar());
        q.CommandText = "SELECT COUNT(*) FROM device_pointers";
        Assert.Equal(3L, q.ExecuteScalar());

        // Opening again is a no-op.
        using (var again = new SqliteChatStore(path))
            Assert.Equal(12, await again.GetUserDeliveredAsync("user1", "chat1", CancellationToken.None));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
