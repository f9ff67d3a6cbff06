using Chat.Client;
using Chat.Protocol;
using Chat.Tests.Infrastructure;
using Chat.Tests.Storage;

namespace Chat.Tests.Cluster;

/// <summary>
/// N in-process nodes (the real Program on real sockets) sharing one PostgreSQL schema and one Redis, as a cluster
/// runs: Chat:Storage=postgres, Chat:Backplane=redis, one signing key, a key prefix of its own in Redis (so test
/// classes running at once never see each other's traffic), and short TTLs so expiry is observable in seconds.
/// </summary>
public sealed class TestCluster : IAsyncDisposable
{
    private readonly PostgresTestDatabase.FreshSchema _schema;
    private readonly List<TestServer> _nodes = [];

    public IReadOnlyList<TestServer> Nodes => _nodes;
    public TestServer this[int i] => _nodes[i];
    public string KeyPrefix { get; }
    public string DataDir { get; }
    public (string Key, string Value)[] Settings { get; }

    private TestCluster(PostgresTestDatabase.FreshSchema schema, string prefix, string dataDir, (string, string)[] settings)
    {
        _schema = schema;
        KeyPrefix = prefix;
        DataDir = dataDir;
        Settings = settings;
    }

    public static async Task<TestCluster> StartAsync(int nodes, params (string Key, string Value)[] extra)
    {
        var schema = await ClusterBackends.CreateSchemaAsync();
        string prefix = "t" + Guid.NewGuid().ToString("N")[..10];
        string dataDir = Path.Combine(Path.GetTempPath(), "chat-cluster", Guid.NewGuid().ToString("N"));
        (string, string)[] settings =
        [
            ("Chat:Storage", "postgres"),
            ("ConnectionStrings:Postgres", schema.ConnectionString),
            ("Chat:Backplane", "redis"),
            ("ConnectionStrings:Redis", ClusterBackends.RequireRedis()),
            ("Chat:BlobsShared", "true"),
            ("Chat:SigningKey", "cluster-test-signing-key-0123456789abcdef"),
            ("Chat:Redis:KeyPrefix", prefix),
            ("Chat:Redis:EntryTtlSeconds", "6"),
            ("Chat:Redis:RefreshSeconds", "1"),
            ("Chat:Presence:GraceSeconds", "1"),
            .. extra,
        ];
        var cluster = new TestCluster(schema, prefix, dataDir, settings);
        try
        {
            // One after the other: the first node creates the schema, the others find it.
            for (int i = 0; i < nodes; i++) cluster._nodes.Add(await TestServer.StartAsync(dataDir, settings));
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
        return cluster;
    }

    /// <summary>Registers a user through node <paramref name="node"/> (any node would do: they share the store).</summary>
    public Task<(ChatApi Api, AuthResponse Auth)> NewUserAsync(int node = 0, string? prefix = null) => _nodes[node].NewUserAsync(prefix);

    /// <summary>The API of a token, talking to a given node.</summary>
    public ChatApi Api(int node, string token) => _nodes[node].Api(token);

    public Task<ChatSocket> ConnectReadyAsync(int node, string token, bool autoAck = true) => _nodes[node].ConnectReadyAsync(token, autoAck);

    public async ValueTask DisposeAsync()
    {
        var errors = new List<string>();
        foreach (var node in _nodes)
        {
            try
            {
                await node.DisposeAsync();
            }
            catch (Xunit.Sdk.XunitException ex)
            {
                errors.Add(ex.Message);
            }
        }
        await _schema.DisposeAsync();
        await DeleteRedisKeysAsync(Settings.Last(s => s.Key == "ConnectionStrings:Redis").Value, KeyPrefix);
        try
        {
            Directory.Delete(DataDir, recursive: true);
        }
        catch (IOException)
        {
        }
        if (errors.Count > 0) throw new Xunit.Sdk.XunitException(string.Join('\n', errors));
    }

    /// <summary>Presence hashes outlive a test by design (last_seen is kept for weeks): remove this cluster's keys.</summary>
    private static async Task DeleteRedisKeysAsync(string connectionString, string prefix)
    {
        try
        {
            await using var mux = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(connectionString + ",connectTimeout=2000,abortConnect=false");
            if (!mux.IsConnected) return;
            var db = mux.GetDatabase();
            foreach (var server in mux.GetServers())
                await foreach (var key in server.KeysAsync(pattern: prefix + ":*")) await db.KeyDeleteAsync(key);
        }
        catch (StackExchange.Redis.RedisException)
        {
            // a private Redis of a fault test may already be gone
        }
    }
}
