using Npgsql;

namespace Chat.Tests.Cluster;

/// <summary>
/// The real PostgreSQL (CHAT_PG) and Redis (CHAT_REDIS) of the cluster tests. Locally, unset variables skip these tests;
/// with CI=true they must run, so a missing backend fails them instead.
/// </summary>
public static class ClusterBackends
{
    private static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    private static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;

    public static string? SkipReason =>
        (Env("CHAT_PG") is null || Env("CHAT_REDIS") is null) && !InCi
            ? "CHAT_PG / CHAT_REDIS are not set (start the backends with: eval \"$(tools/services.sh start)\")"
            : null;

    public static string RequirePostgres() => Env("CHAT_PG") ?? throw new InvalidOperationException("CHAT_PG is not set but cluster tests must run here (CI=true).");

    public static string RequireRedis() => Env("CHAT_REDIS") ?? throw new InvalidOperationException("CHAT_REDIS is not set but cluster tests must run here (CI=true).");

    /// <summary>A fresh schema in the test database; the connection string has it as search path. Dropped on dispose.</summary>
    public static async Task<TestSchema> CreateSchemaAsync()
    {
        string baseCs = RequirePostgres();
        string schema = "cluster_" + Guid.NewGuid().ToString("N")[..12];
        await using (var conn = new NpgsqlConnection(baseCs))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE SCHEMA {schema}", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        var cs = new NpgsqlConnectionStringBuilder(baseCs) { SearchPath = schema, MaxPoolSize = 20, Timeout = 5, CommandTimeout = 30 };
        return new TestSchema(baseCs, schema, cs.ConnectionString);
    }

    public sealed record TestSchema(string BaseConnectionString, string Schema, string ConnectionString) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            NpgsqlConnection.ClearAllPools();
            await using var conn = new NpgsqlConnection(BaseConnectionString);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {Schema} CASCADE", conn);
            await cmd.ExecuteNonQueryAsync();
        }
    }
}

/// <summary>A fact that needs PostgreSQL and Redis: skipped locally without them, run (and failing) in CI.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ClusterFactAttribute : FactAttribute
{
    public ClusterFactAttribute()
    {
        if (ClusterBackends.SkipReason is { } reason) Skip = reason;
    }
}
