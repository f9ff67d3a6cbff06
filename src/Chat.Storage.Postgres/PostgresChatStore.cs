using Chat.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;

namespace Chat.Storage.Postgres;

/// <summary>
/// The scale-out store: every node of a cluster talks to the same PostgreSQL. Nothing here is node-local state that
/// another node could contradict: seq comes from the chat's row (locked in the committing transaction), dedup from a
/// primary key, pointers only rise (GREATEST). Multi-row work is sent as arrays (unnest) so a batch of 1,000
/// messages costs a handful of round trips.
/// </summary>
public sealed partial class PostgresChatStore : IChatStore, IAsyncDisposable
{
    private readonly NpgsqlDataSource _db;
    private readonly bool _ownsDataSource;
    private readonly ILogger _log;

    /// <param name="ownsDataSource">Dispose the data source with the store.</param>
    public PostgresChatStore(NpgsqlDataSource dataSource, ILogger<PostgresChatStore>? log = null, bool ownsDataSource = false)
    {
        _db = dataSource;
        _ownsDataSource = ownsDataSource;
        _log = (ILogger?)log ?? NullLogger.Instance;
    }

    /// <summary>A store on its own data source, checked (durability) and migrated: what tests and tools use.</summary>
    public static async Task<PostgresChatStore> OpenAsync(string connectionString, ILoggerFactory? loggers = null, CancellationToken ct = default)
    {
        var store = new PostgresChatStore(NpgsqlDataSource.Create(connectionString), loggers?.CreateLogger<PostgresChatStore>(), ownsDataSource: true);
        try
        {
            await store.InitializeAsync(ct);
            return store;
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }
    }

    /// <summary>Refuses unsafe durability settings, then creates/migrates the schema. Run once at node start.</summary>
    public async Task InitializeAsync(CancellationToken ct)
    {
        await PostgresDurability.VerifyAsync(_db, _log, ct);
        await PostgresSchema.MigrateAsync(_db, _log, ct);
        await BackfillSearchAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        if (_ownsDataSource) await _db.DisposeAsync();
    }

    public async Task<bool> PingAsync(CancellationToken ct) => Convert.ToInt32(await ScalarAsync("SELECT 1", ct)) == 1;

    // ---- plumbing

    private static NpgsqlParameter Text(string? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };
    private static NpgsqlParameter Long(long? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bigint };
    private static NpgsqlParameter Int(int value) => new() { Value = value, NpgsqlDbType = NpgsqlDbType.Integer };
    private static NpgsqlParameter Bool(bool value) => new() { Value = value, NpgsqlDbType = NpgsqlDbType.Boolean };
    private static NpgsqlParameter Texts(IEnumerable<string?> values) => new() { Value = values.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text };
    private static NpgsqlParameter Longs(IEnumerable<long> values) => new() { Value = values.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint };
    private static NpgsqlParameter Bools(IEnumerable<bool> values) => new() { Value = values.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Boolean };

    private static NpgsqlBatchCommand Statement(string sql, params NpgsqlParameter[] args)
    {
        var cmd = new NpgsqlBatchCommand(sql);
        cmd.Parameters.AddRange(args);
        return cmd;
    }

    private static NpgsqlCommand Cmd(NpgsqlConnection c, NpgsqlTransaction? tx, string sql, params NpgsqlParameter[] args)
    {
        var cmd = new NpgsqlCommand(sql, c, tx);
        cmd.Parameters.AddRange(args);
        return cmd;
    }

    private async Task<List<T>> QueryAsync<T>(string sql, Func<NpgsqlDataReader, T> map, CancellationToken ct, params NpgsqlParameter[] args)
    {
        await using var cmd = _db.CreateCommand(sql);
        cmd.Parameters.AddRange(args);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var list = new List<T>();
        while (await r.ReadAsync(ct)) list.Add(map(r));
        return list;
    }

    private async Task<object?> ScalarAsync(string sql, CancellationToken ct, params NpgsqlParameter[] args)
    {
        await using var cmd = _db.CreateCommand(sql);
        cmd.Parameters.AddRange(args);
        return await cmd.ExecuteScalarAsync(ct);
    }

    private async Task<int> ExecuteAsync(string sql, CancellationToken ct, params NpgsqlParameter[] args)
    {
        await using var cmd = _db.CreateCommand(sql);
        cmd.Parameters.AddRange(args);
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    private async Task<T> InTransactionAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work, CancellationToken ct)
    {
        await using var conn = await _db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var result = await work(conn, tx);
        await tx.CommitAsync(ct);
        return result;
    }

    private static string? NullableString(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    // ---- users and devices

    private const string UserCols = "user_id, username, display_name, password_hash, created_at";
    private static UserRecord ReadUser(NpgsqlDataReader r) => new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetInt64(4));

    public async Task<bool> CreateUserAsync(UserRecord u, CancellationToken ct) =>
        await ExecuteAsync($"INSERT INTO users({UserCols}) VALUES($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING", ct,
            Text(u.UserId), Text(u.Username), Text(u.DisplayName), Text(u.PasswordHash), Long(u.CreatedAt)) == 1;

    public async Task<UserRecord?> GetUserAsync(string userId, CancellationToken ct) =>
        (await QueryAsync($"SELECT {UserCols} FROM users WHERE user_id=$1", ReadUser, ct, Text(userId))).FirstOrDefault();

    public async Task<UserRecord?> FindByUsernameAsync(string username, CancellationToken ct) =>
        (await QueryAsync($"SELECT {UserCols} FROM users WHERE username=$1", ReadUser, ct, Text(username))).FirstOrDefault();

    public async Task<IReadOnlyList<UserRecord>> GetUsersAsync(IReadOnlyCollection<string> userIds, CancellationToken ct)
    {
        if (userIds.Count == 0) return [];
        return await QueryAsync($"SELECT {UserCols} FROM users WHERE user_id = ANY($1)", ReadUser, ct, Texts(userIds.Distinct()));
    }

    private const string DeviceCols = "device_id, user_id, device_name, token_hash, created_at, last_active";
    private static DeviceRecord ReadDevice(NpgsqlDataReader r) => new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetInt64(4), r.GetInt64(5));

    public Task CreateDeviceAsync(DeviceRecord d, CancellationToken ct) =>
        ExecuteAsync($"INSERT INTO devices({DeviceCols}) VALUES($1, $2, $3, $4, $5, $6)", ct,
            Text(d.DeviceId), Text(d.UserId), Text(d.DeviceName), Text(d.TokenHash), Long(d.CreatedAt), Long(d.LastActive));

    public async Task<DeviceRecord?> FindDeviceByTokenHashAsync(string tokenHash, CancellationToken ct) =>
        (await QueryAsync($"SELECT {DeviceCols} FROM devices WHERE token_hash=$1 AND NOT revoked", ReadDevice, ct, Text(tokenHash))).FirstOrDefault();

    public async Task<IReadOnlyList<DeviceRecord>> ListDevicesAsync(string userId, CancellationToken ct) =>
        await QueryAsync($"SELECT {DeviceCols} FROM devices WHERE user_id=$1 AND NOT revoked ORDER BY created_at", ReadDevice, ct, Text(userId));

    public async Task<bool> RevokeDeviceAsync(string userId, string deviceId, CancellationToken ct) =>
        await ExecuteAsync("UPDATE devices SET revoked=true WHERE device_id=$1 AND user_id=$2 AND NOT revoked", ct, Text(deviceId), Text(userId)) == 1;

    public async Task<bool> UpdateDisplayNameAsync(string userId, string displayName, CancellationToken ct) =>
        await ExecuteAsync("UPDATE users SET display_name=$1 WHERE user_id=$2", ct, Text(displayName), Text(userId)) == 1;

    public async Task<bool> UpdatePasswordHashAsync(string userId, string passwordHash, CancellationToken ct) =>
        await ExecuteAsync("UPDATE users SET password_hash=$1 WHERE user_id=$2", ct, Text(passwordHash), Text(userId)) == 1;

    public async Task<bool> RenameDeviceAsync(string userId, string deviceId, string deviceName, CancellationToken ct) =>
        await ExecuteAsync("UPDATE devices SET device_name=$1 WHERE device_id=$2 AND user_id=$3 AND NOT revoked", ct,
            Text(deviceName), Text(deviceId), Text(userId)) == 1;

    public async Task TouchDevicesAsync(IReadOnlyCollection<(string DeviceId, long LastActive)> devices, CancellationToken ct)
    {
        if (devices.Count == 0) return;
        // One row per device: UPDATE ... FROM applies only one (arbitrary) match per target row.
        var latest = devices.GroupBy(d => d.DeviceId, StringComparer.Ordinal)
            .Select(g => (Id: g.Key, At: g.Max(d => d.LastActive))).ToList();
        await ExecuteAsync("""
            UPDATE devices d SET last_active = GREATEST(d.last_active, v.at)
            FROM unnest($1::text[], $2::bigint[]) AS v(id, at)
            WHERE d.device_id = v.id
            """, ct, Texts(latest.Select(d => d.Id)), Longs(latest.Select(d => d.At)));
    }
}
