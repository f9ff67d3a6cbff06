using Npgsql;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Chat.Tests.Storage;

/// <summary>
/// The real PostgreSQL the tests use (CHAT_PG, set by tools/services.sh). Locally an unset CHAT_PG skips these tests;
/// in CI (CI=true) it fails them: a backend test that silently does not run proves nothing.
/// Each user of it gets a fresh schema (search path) in that database, dropped afterwards, so runs never collide.
/// </summary>
public static class PostgresTestDatabase
{
    public const string EnvVar = "CHAT_PG";

    private static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Why PostgreSQL tests skip here, or null when they must run (configured, or in CI).</summary>
    public static string? SkipReason =>
        string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(EnvVar)) && !InCi
            ? $"{EnvVar} is not set (start the backends with: eval \"$(tools/services.sh start)\")"
            : null;

    /// <summary>The configured connection string; throws (a failure, not a skip) when it is missing.</summary>
    public static string RequireConnectionString() =>
        Environment.GetEnvironmentVariable(EnvVar) is { Length: > 0 } cs
            ? cs
            : throw new InvalidOperationException($"{EnvVar} is not set but PostgreSQL tests must run here (CI=true).");

    /// <summary>Creates an empty schema; the returned connection string has it as search path.</summary>
    public static async Task<FreshSchema> CreateSchemaAsync(int maxPoolSize = 5)
    {
        string baseCs = RequireConnectionString();
        string schema = "t_" + Guid.NewGuid().ToString("N")[..16];
        await using (var conn = new NpgsqlConnection(baseCs))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE SCHEMA {schema}", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        var cs = new NpgsqlConnectionStringBuilder(baseCs) { SearchPath = schema, MaxPoolSize = maxPoolSize, Timeout = 15, CommandTimeout = 60 };
        return new FreshSchema(baseCs, schema, cs.ConnectionString);
    }

    public sealed record FreshSchema(string BaseConnectionString, string Schema, string ConnectionString) : IAsyncDisposable
    {
        /// <summary>This schema's connection string with extra settings, e.g. Options = "-c synchronous_commit=off".</summary>
        public string With(Action<NpgsqlConnectionStringBuilder> change)
        {
            var b = new NpgsqlConnectionStringBuilder(ConnectionString);
            change(b);
            return b.ConnectionString;
        }

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

/// <summary>A fact that needs PostgreSQL: skipped locally without CHAT_PG, run (and failing) in CI.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (PostgresTestDatabase.SkipReason is { } reason) Skip = reason;
    }
}

/// <summary>Marks a contract subclass whose backend is PostgreSQL, for <see cref="StoreFactAttribute"/>.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class RequiresPostgresAttribute : Attribute;

/// <summary>
/// A contract fact: declared once on the abstract contract, run for each implementation's subclass, and skipped only
/// for a subclass whose backend is not configured (see <see cref="PostgresTestDatabase.SkipReason"/>).
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
[XunitTestCaseDiscoverer("Chat.Tests.Storage.StoreFactDiscoverer", "Chat.Tests")]
public sealed class StoreFactAttribute : FactAttribute;

public sealed class StoreFactDiscoverer(IMessageSink diagnosticMessageSink) : FactDiscoverer(diagnosticMessageSink)
{
    public override IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute)
    {
        bool needsPostgres = testMethod.TestClass.Class.GetCustomAttributes(typeof(RequiresPostgresAttribute)).Any();
        if (needsPostgres && PostgresTestDatabase.SkipReason is { } reason)
            return [new SkippedTestCase(reason, DiagnosticMessageSink, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod)];
        return base.Discover(discoveryOptions, testMethod, factAttribute);
    }
}

public sealed class SkippedTestCase : XunitTestCase
{
    private string _reason = "";

    [Obsolete("Called by the de-serializer; should only be called by deriving classes for de-serialization purposes")]
    public SkippedTestCase()
    {
    }

    public SkippedTestCase(string reason, IMessageSink sink, TestMethodDisplay display, TestMethodDisplayOptions options, ITestMethod testMethod)
        : base(sink, display, options, testMethod) => _reason = reason;

    protected override string GetSkipReason(IAttributeInfo factAttribute) => _reason;

    public override void Serialize(IXunitSerializationInfo data)
    {
        base.Serialize(data);
        data.AddValue("SkipBecause", _reason);
    }

    public override void Deserialize(IXunitSerializationInfo data)
    {
        _reason = data.GetValue<string>("SkipBecause");
        base.Deserialize(data);
    }
}
