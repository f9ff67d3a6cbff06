using Chat.Core.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Chat.Storage.Sqlite;

/// <summary>
/// The embedded default store. One write connection (WAL, synchronous=FULL) used only by its own thread — SQLite has
/// one writer anyway — and pooled read connections that run beside it.
/// </summary>
public sealed partial class SqliteChatStore : IChatStore, IDisposable
{
    private readonly string _connectionString;
    private readonly SqliteConnection _writer;
    private readonly SqliteWriteThread _writes = new("sqlite-writer");
    private readonly ILogger _log;

    public SqliteChatStore(string databasePath, ILogger<SqliteChatStore>? log = null)
    {
        _log = (ILogger?)log ?? NullLogger.Instance;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(databasePath))!);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = databasePath, Pooling = true, DefaultTimeout = 30 }.ToString();
        _writer = new SqliteConnection(_connectionString);
        _writer.Open();
        Exec(_writer, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF; PRAGMA busy_timeout=30000; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;");
        Exec(_writer, SqliteSchema.Create);
        Exec(_writer, NotificationsSchema);
        if (Scalar(_writer, "SELECT COUNT(*) FROM sqlite_master WHERE type='index' AND name='device_pointers_chat'") > 0)
            Exec(_writer, SqliteSchema.MigratePointers);
        SqliteRichSchema.Apply(_writer);
        InitializeSearch();
        Exec(_writer, GroupEventsSchema);
    }

    public void Dispose()
    {
        _writes.Dispose(); // finishes the queued writes
        // Only this database's pool: ClearAllPools is process-wide (it raced with other stores in the same process
        // and threw a NullReferenceException during shutdown).
        SqliteConnection.ClearPool(_writer);
        _writer.Dispose();
    }

    private static void Exec(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private static long Scalar(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return Convert.ToInt64(cmd.ExecuteScalar());
    }

    private async Task<SqliteConnection> OpenReaderAsync(CancellationToken ct)
    {
        var c = new SqliteConnection(_connectionString);
        await c.OpenAsync(ct);
        return c;
    }

    private Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, T> work, CancellationToken ct) => _writes.RunAsync(() =>
    {
        using var tx = _writer.BeginTransaction(deferred: false);
        var result = work(_writer, tx);
        tx.Commit();
        return result;
    }, ct);

    private static SqliteCommand Cmd(SqliteConnection c, string sql, SqliteTransaction? tx = null, params (string Name, object? Value)[] args)
    {
        var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        foreach (var (name, value) in args) cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return cmd;
    }

    private async Task<List<T>> QueryAsync<T>(string sql, Func<SqliteDataReader, T> map, CancellationToken ct, params (string, object?)[] args)
    {
        await using var c = await OpenReaderAsync(ct);
        await using var cmd = Cmd(c, sql, null, args);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var list = new List<T>();
        while (await r.ReadAsync(ct)) list.Add(map(r));
        return list;
    }

    private async Task<object?> ScalarAsync(string sql, CancellationToken ct, params (string, object?)[] args)
    {
        await using var c = await OpenReaderAsync(ct);
        await using var cmd = Cmd(c, sql, null, args);
        return await cmd.ExecuteScalarAsync(ct);
    }

    public async Task<bool> PingAsync(CancellationToken ct) => Convert.ToInt64(await ScalarAsync("SELECT 1", ct)) == 1;

    private static string? NullableString(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    // ---- users and devices

    private const string UserCols = "user_id, username, display_name, password_hash, created_at";
    private static UserRecord ReadUser(SqliteDataReader r) => new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetInt64(4));

    public Task<bool> CreateUserAsync(UserRecord u, CancellationToken ct) => WriteAsync((c, tx) =>
    {
        using var cmd = Cmd(c, $"INSERT OR IGNORE INTO users({UserCols}) VALUES(@id, @name, @display, @hash, @at)", tx,
            ("@id", u.UserId), ("@name", u.Username), ("@display", u.DisplayName), ("@hash", u.PasswordHash), ("@at", u.CreatedAt));
        return cmd.ExecuteNonQuery() == 1;
    }, ct);

    public async Task<UserRecord?> GetUserAsync(string userId, CancellationToken ct) =>
        (await QueryAsync($"SELECT {UserCols} FROM users WHERE user_id=@id", ReadUser, ct, ("@id", userId))).FirstOrDefault();

    public async Task<UserRecord?> FindByUsernameAsync(string username, CancellationToken ct) =>
        (await QueryAsync($"SELECT {UserCols} FROM users WHERE username=@n", ReadUser, ct, ("@n", username))).FirstOrDefault();

    public async Task<IReadOnlyList<UserRecord>> GetUsersAsync(IReadOnlyCollection<string> userIds, CancellationToken ct)
    {
        if (userIds.Count == 0) return [];
        var result = new List<UserRecord>(userIds.Count);
        foreach (var chunk in userIds.Distinct().Chunk(500))
        {
            var names = chunk.Select((_, i) => $"@p{i}").ToArray();
            result.AddRange(await QueryAsync($"SELECT {UserCols} FROM users WHERE user_id IN ({string.Join(',', names)})", ReadUser, ct,
                chunk.Select((id, i) => ($"@p{i}", (object?)id)).ToArray()));
        }
        return result;
    }

    private const string DeviceCols = "device_id, user_id, device_name, token_hash, created_at, last_active";
    private static DeviceRecord ReadDevice(SqliteDataReader r) => new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetInt64(4), r.GetInt64(5));

    public Task CreateDeviceAsync(DeviceRecord d, CancellationToken ct) => WriteAsync((c, tx) =>
    {
        using var cmd = Cmd(c, $"INSERT INTO devices({DeviceCols}) VALUES(@id, @user, @name, @hash, @at, @last)", tx,
            ("@id", d.DeviceId), ("@user", d.UserId), ("@name", d.DeviceName), ("@hash", d.TokenHash), ("@at", d.CreatedAt), ("@last", d.LastActive));
        return cmd.ExecuteNonQuery();
    }, ct);

    public async Task<DeviceRecord?> FindDeviceByTokenHashAsync(string tokenHash, CancellationToken ct) =>
        (await QueryAsync($"SELECT {DeviceCols} FROM devices WHERE token_hash=@h AND revoked=0", ReadDevice, ct, ("@h", tokenHash))).FirstOrDefault();

    public async Task<IReadOnlyList<DeviceRecord>> ListDevicesAsync(string userId, CancellationToken ct) =>
        await QueryAsync($"SELECT {DeviceCols} FROM devices WHERE user_id=@u AND revoked=0 ORDER BY created_at", ReadDevice, ct, ("@u", userId));

    public Task<bool> RevokeDeviceAsync(string userId, string deviceId, CancellationToken ct) => WriteAsync((c, tx) =>
    {
        using var cmd = Cmd(c, "UPDATE devices SET revoked=1 WHERE device_id=@d AND user_id=@u AND revoked=0", tx, ("@d", deviceId), ("@u", userId));
        return cmd.ExecuteNonQuery() == 1;
    }, ct);

    public Task TouchDevicesAsync(IReadOnlyCollection<(string DeviceId, long LastActive)> devices, CancellationToken ct) => WriteAsync((c, tx) =>
    {
        using var cmd = Cmd(c, "UPDATE devices SET last_active=MAX(last_active, @t) WHERE device_id=@d", tx, ("@t", 0L), ("@d", ""));
        foreach (var (id, at) in devices)
        {
            cmd.Parameters["@t"].Value = at;
            cmd.Parameters["@d"].Value = id;
            cmd.ExecuteNonQuery();
        }
        return 0;
    }, ct);

    public async Task<bool> CanReadFileAsync(string fileId, string userId, CancellationToken ct) =>
        await ScalarAsync("""
            SELECT 1 FROM file_chats fc JOIN chat_members cm ON cm.chat_id = fc.chat_id
            WHERE fc.file_id=@f AND cm.user_id=@u LIMIT 1
            """, ct, ("@f", fileId), ("@u", userId)) is not null;
}
