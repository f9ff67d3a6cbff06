using Chat.Backplane.Redis;
using Chat.Tests.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Chat.Tests.Seams;

/// <summary>
/// The real Redis (CHAT_REDIS) of the Redis halves of the seam kits. Locally an unset variable skips them; with CI=true
/// they must run, so a missing Redis fails them instead.
/// </summary>
public static class RedisTestServer
{
    public const string EnvVar = "CHAT_REDIS";

    private static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    private static string? Configured => Environment.GetEnvironmentVariable(EnvVar) is { Length: > 0 } v ? v : null;

    /// <summary>Why Redis tests skip here, or null when they must run (configured, or in CI).</summary>
    public static string? SkipReason =>
        Configured is null && !InCi ? $"{EnvVar} is not set (start the backends with: eval \"$(tools/services.sh start)\")" : null;

    public static string ConnectionString =>
        Configured ?? throw new InvalidOperationException($"{EnvVar} is not set but Redis tests must run here (CI=true).");

    /// <summary>A key prefix of one kit instance: tests share the Redis with everything else, so nobody flushes it.</summary>
    public static string NewPrefix(string kit) => $"t-{kit}-{Guid.NewGuid().ToString("N")[..10]}";

    /// <summary>One node's connection (its own multiplexer and node id), with every key under <paramref name="options"/>.KeyPrefix.</summary>
    public static RedisConnection Connect(RedisBackplaneOptions options) =>
        new(ConnectionString, Options.Create(options), NullLogger<RedisConnection>.Instance);

    /// <summary>Deletes this kit instance's keys (and only those).</summary>
    public static async Task DeleteKeysAsync(RedisConnection connection, string prefix)
    {
        var server = connection.Multiplexer.GetServers()[0];
        await foreach (var key in server.KeysAsync(pattern: prefix + ":*")) await connection.Db.KeyDeleteAsync(key);
    }
}

/// <summary>Marks a seam-kit subclass whose implementation needs Redis, for <see cref="SeamFactAttribute"/>.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class RequiresRedisAttribute : Attribute;

/// <summary>
/// A contract fact of a seam kit: declared once on the abstract kit, run for each implementation's subclass, and skipped
/// only for a subclass whose backend is not configured (see <see cref="RedisTestServer.SkipReason"/>).
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
[XunitTestCaseDiscoverer("Chat.Tests.Seams.SeamFactDiscoverer", "Chat.Tests")]
public sealed class SeamFactAttribute : FactAttribute;

public sealed class SeamFactDiscoverer(IMessageSink diagnosticMessageSink) : FactDiscoverer(diagnosticMessageSink)
{
    public override IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute)
    {
        bool needsRedis = testMethod.TestClass.Class.GetCustomAttributes(typeof(RequiresRedisAttribute)).Any();
        if (needsRedis && RedisTestServer.SkipReason is { } reason)
            return [new SkippedTestCase(reason, DiagnosticMessageSink, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod)];
        return base.Discover(discoveryOptions, testMethod, factAttribute);
    }
}

/// <summary>Waiting for what arrives through pub/sub: bounded, polling, failing with a message that says what never came.</summary>
public static class Eventually
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public static async Task TrueAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Not within {Timeout.TotalSeconds} s: {what}");
            await Task.Delay(10);
        }
    }

    public static async Task TrueAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Not within {Timeout.TotalSeconds} s: {what}");
            await Task.Delay(10);
        }
    }
}
