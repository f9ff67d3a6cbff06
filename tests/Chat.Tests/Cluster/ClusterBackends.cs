using Chat.Tests.Storage;

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

    /// <summary>
    /// A fresh schema in the test database (the storage tests' helper), with the pool and timeouts of a node. Dropped on dispose.
    /// The connect timeout is generous: a CI box running builds and tests beside PostgreSQL forks its backends slowly.
    /// </summary>
    public static async Task<PostgresTestDatabase.FreshSchema> CreateSchemaAsync()
    {
        var schema = await PostgresTestDatabase.CreateSchemaAsync(maxPoolSize: 20);
        return schema with { ConnectionString = schema.With(b => (b.Timeout, b.CommandTimeout) = (15, 30)) };
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
