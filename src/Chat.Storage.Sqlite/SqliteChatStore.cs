using Chat.Core.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Chat.Storage.Sqlite;

/// <summary>
/// The embedded default store. One write connection (WAL, synchronous=FULL) used only by its own thread — SQLite has
/// one writer anyway — and pooled read connections that run beside it.
/// </summary>
public sealed partial class SqliteChatStore : IChatStore, ISpaceHealth, IDisposable
{
    private readonly string _connectionString;
    private readonly SqliteConnection _writer;
    private readonly SqliteWriteThread _writes = new("sqlite-writer");
    private readonly ILogger _log;
    private readonly SqliteDataFolder _folder;

    /// <param name="acceptDataLoss">
    /// Start even though the write-ahead log of an unclean shutdown is missing (<c>Chat:AcceptDataLoss</c>): the
    /// operator accepts that what it held is gone.
    /// </param>
    public SqliteChatStore(string databasePath, ILogger<SqliteChatStore>? log = null, bool acceptDataLoss = false)
    {
        _log = (ILogger?)log ?? NullLogger.Instance;
        string path = Path.GetFullPath(databasePath);
        _folder = SqliteDataFolder.Claim(Path.GetDirectoryName(path)!);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true, DefaultTimeout = 30 }.ToString();
        _writer = new SqliteConnection(_connectionString);
        try
        {
            bool walPresent = File.Exists(path + "-wal");
            CreateOwnerOnly(path);
            _writer.Open();
            Exec(_writer, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF; PRAGMA busy_timeout=30000; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;");
            CheckIntegrity(path, walPresent, acceptDataLoss);
            Exec(_writer, SqliteSchema.Create);
            Exec(_writer, NotificationsSchema);
            if (Scalar(_writer, "SELECT COUNT(*) FROM sqlite_master WHERE type='index' AND name='device_pointers_chat'") > 0)
                Exec(_writer, SqliteSchema.MigratePointers);
            SqliteRichSchema.Apply(_writer);
            InitializeSearch();
            Exec(_writer, GroupEventsSchema);
            Exec(_writer, PrivacySchema);
            Exec(_writer, InvitesSchema);
            MarkOpen();
        }
        catch (SqliteException ex)
        {
            Abandon();
            throw new StartupCheckException($"Database {path} cannot be opened ({ex.Message.TrimEnd('.')}): restore it from a backup, or move it away to start with an empty one.", ex);
        }
        catch
        {
            Abandon();
            throw;
        }
    }

    /// <summary>A new database file is created owner-only; SQLite gives its -wal and -shm files the same mode.</summary>
    private static void CreateOwnerOnly(string path)
    {
        if (OperatingSystem.IsWindows() || File.Exists(path)) return;
        using var _ = new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite });
    }

    /// <summary>
    /// <c>PRAGMA quick_check</c>, and the lost-WAL rule: the database records "open" in its main file while a node
    /// runs and "closed" at a clean shutdown (when SQLite folds the WAL in and removes it). "Open" with no WAL file
    /// means the log of an unclean shutdown, with acknowledged messages in it, was deleted.
    /// </summary>
    private void CheckIntegrity(string path, bool walPresent, bool acceptDataLoss)
    {
        using (var cmd = _writer.CreateCommand())
        {
            cmd.CommandText = "PRAGMA quick_check(1)";
            string result = Convert.ToString(cmd.ExecuteScalar()) ?? "";
            if (result != "ok")
                throw new StartupCheckException($"Database {path} failed its integrity check ({result}): restore it from a backup, or move it away to start with an empty one.");
        }
        Exec(_writer, NodeStateSchema);
        bool wasOpen = Scalar(_writer, "SELECT COALESCE((SELECT value FROM node_state WHERE key='open'), 0)") == 1;
        if (wasOpen && !walPresent)
        {
            if (!acceptDataLoss)
                throw new StartupCheckException($"Database {path} was not shut down cleanly and its write-ahead log {path}-wal is missing, so acknowledged messages are lost: put the -wal file back, restore a backup, or start once with Chat:AcceptDataLoss=true to accept the loss.");
            LogDataLossAccepted(_log, path);
        }
    }

    private const string NodeStateSchema = "CREATE TABLE IF NOT EXISTS node_state(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;";

    /// <summary>Records "open" and checkpoints it into the main file, where a lost WAL cannot take it away.</summary>
    private void MarkOpen()
    {
        Exec(_writer, "INSERT INTO node_state(key, value) VALUES('open', 1) ON CONFLICT(key) DO UPDATE SET value=1;");
        Exec(_writer, "PRAGMA wal_checkpoint(TRUNCATE);");
    }

    private void Abandon()
    {
        _writes.Dispose();
        SqliteConnection.ClearPool(_writer);
        _writer.Dispose();
        _folder.Dispose();
    }

    [LoggerMessage(EventId = 3101, Level = LogLevel.Warning, Message = "Starting on {Path} without the write-ahead log of its unclean shutdown (Chat:AcceptDataLoss=true): what it held is lost")]
    private static partial void LogDataLossAccepted(ILogger log, string path);

    private int _disposed;

    public void Dispose()
    {
        // The container disposes the instance once per seam it was resolved as.
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        _writes.Dispose(); // finishes the queued writes
        // Only this database's pool: ClearAllPools is process-wide (it raced with other stores in the same process
        // and threw a NullReferenceException during shutdown).
        // A clean shutdown: closing the last connection below folds the WAL in and removes it.
        try
        {
            Exec(_writer, "UPDATE node_state SET value=0 WHERE key='open';");
        }
        catch (SqliteException ex)
        {
            LogCloseMarkFailed(_log, ex); // a disk-full shutdown: the next start sees the WAL and is fine
        }
        SqliteConnection.ClearPool(_writer);
        _writer.Dispose();
        _folder.Dispose();
    }

    [LoggerMessage(EventId = 3102, Level = LogLevel.Warning, Message = "Could not record the clean shutdown")]
    private static partial void LogCloseMarkFailed(ILogger log, Exception ex);

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

    /// <summary>
    /// <paramref name="sql"/> once per 500 distinct <paramref name="keys"/> (under SQLite's variable limit), with
    /// <c>@keys</c> replaced by their parameters; the rows of every chunk, in chunk order.
    /// </summary>
    private async Task<List<T>> QueryInAsync<TKey, T>(string sql, IEnumerable<TKey> keys, Func<SqliteDataReader, T> map, CancellationToken ct,
        params (string, object?)[] args)
    {
        var result = new List<T>();
        foreach (var chunk in keys.Distinct().Chunk(500))
        {
            string names = string.Join(',', chunk.Select((_, i) => $"@p{i}"));
            result.AddRange(await QueryAsync(sql.Replace("@keys", names), map, ct, [.. args, .. chunk.Select((k, i) => ($"@p{i}", (object?)k))]));
        }
        return result;
    }

    private async Task<object?> ScalarAsync(string sql, CancellationToken ct, params (string, object?)[] args)
    {
        await using var c = await OpenReaderAsync(ct);
        await using var cmd = Cmd(c, sql, null, args);
        return await cmd.ExecuteScalarAsync(ct);
    }

    public string SpaceName => "database";

    public bool OutOfSpace => _writes.Space.OutOfSpace;

    /// <summary>
    /// Caps the database at <paramref name="pages"/> pages (<c>PRAGMA max_page_count</c>, on the write connection):
    /// beyond it SQLite answers SQLITE_FULL exactly as on a full disk. Tests use it to fill the database for real.
    /// Returns the page count now.
    /// </summary>
    internal Task<long> LimitPagesAsync(long pages, CancellationToken ct) => _writes.RunAsync(() =>
    {
        Exec(_writer, $"PRAGMA max_page_count={pages}");
        return Scalar(_writer, "PRAGMA page_count");
    }, ct);

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
        return await QueryInAsync($"SELECT {UserCols} FROM users WHERE user_id IN (@keys)", userIds, ReadUser, ct);
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

    public Task<bool> UpdateDisplayNameAsync(string userId, string displayName, CancellationToken ct) => WriteAsync((c, tx) =>
    {
        using var cmd = Cmd(c, "UPDATE users SET display_name=@n WHERE user_id=@u", tx, ("@n", displayName), ("@u", userId));
        return cmd.ExecuteNonQuery() == 1;
    }, ct);

    public Task<bool> UpdatePasswordHashAsync(string userId, string passwordHash, CancellationToken ct) => WriteAsync((c, tx) =>
    {
        using var cmd = Cmd(c, "UPDATE users SET password_hash=@h WHERE user_id=@u", tx, ("@h", passwordHash), ("@u", userId));
        return cmd.ExecuteNonQuery() == 1;
    }, ct);

    public Task<bool> RenameDeviceAsync(string userId, string deviceId, string deviceName, CancellationToken ct) => WriteAsync((c, tx) =>
    {
        using var cmd = Cmd(c, "UPDATE devices SET device_name=@n WHERE device_id=@d AND user_id=@u AND revoked=0", tx,
            ("@n", deviceName), ("@d", deviceId), ("@u", userId));
        return cmd.ExecuteNonQuery() == 1;
    }, ct);

    public async Task<bool> CanReadFileAsync(string fileId, string userId, CancellationToken ct) =>
        await ScalarAsync("""
            SELECT 1 FROM file_chats fc JOIN chat_members cm ON cm.chat_id = fc.chat_id
            WHERE fc.file_id=@f AND cm.user_id=@u LIMIT 1
            """, ct, ("@f", fileId), ("@u", userId)) is not null;
}
