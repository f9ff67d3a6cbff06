using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Chat.Backplane.Redis;

/// <summary>
/// The node's one multiplexer (StackExchange.Redis multiplexes every command and subscription over it) and its
/// identity in the cluster. The multiplexer reconnects by itself after a Redis restart; the backplane listens for
/// that to re-register this node's devices, which a restarted Redis has forgotten.
/// </summary>
public sealed partial class RedisConnection : IDisposable
{
    private readonly ConnectionMultiplexer _mux;

    public RedisConnection(string connectionString, IOptions<RedisBackplaneOptions> options, ILogger<RedisConnection> log)
    {
        var o = options.Value;
        NodeId = $"{Environment.MachineName.ToLowerInvariant()}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";
        var config = ConfigurationOptions.Parse(connectionString);
        // Start even if Redis is down for a moment: the node serves its local devices and catches up when Redis is back.
        config.AbortOnConnectFail = false;
        config.AsyncTimeout = o.CommandTimeoutMs;
        config.SyncTimeout = o.CommandTimeoutMs;
        config.ConnectTimeout = Math.Max(config.ConnectTimeout, 2000);
        config.ConnectRetry = Math.Max(config.ConnectRetry, 3);
        config.ReconnectRetryPolicy = new LinearRetry(500);
        config.ClientName ??= "chat-" + NodeId;
        Keys = new RedisKeys(o.KeyPrefix, NodeId);
        _mux = ConnectionMultiplexer.Connect(config);
        _mux.ConnectionFailed += (_, e) => LogConnectionFailed(log, e.EndPoint?.ToString() ?? "?", e.FailureType.ToString(), e.Exception);
        _mux.ConnectionRestored += (_, e) =>
        {
            LogConnectionRestored(log, e.EndPoint?.ToString() ?? "?");
            Restored?.Invoke();
        };
        LogStarted(log, NodeId, _mux.IsConnected);
    }

    /// <summary>This process in the cluster: unique per start, so a restarted node never receives its predecessor's traffic.</summary>
    public string NodeId { get; }
    internal RedisKeys Keys { get; }
    public IConnectionMultiplexer Multiplexer => _mux;
    public IDatabase Db => _mux.GetDatabase();
    public ISubscriber Subscriber => _mux.GetSubscriber();
    public bool IsConnected => _mux.IsConnected;

    /// <summary>Raised after the connection to Redis came back.</summary>
    public event Action? Restored;

    public void Dispose() => _mux.Dispose();

    [LoggerMessage(6001, LogLevel.Information, "Redis backplane node {NodeId} started (connected: {Connected})")]
    private static partial void LogStarted(ILogger logger, string nodeId, bool connected);

    [LoggerMessage(6002, LogLevel.Warning, "Redis connection to {EndPoint} failed ({FailureType}); live delivery between nodes is paused, devices catch up from the store")]
    private static partial void LogConnectionFailed(ILogger logger, string endPoint, string failureType, Exception? ex);

    [LoggerMessage(6003, LogLevel.Information, "Redis connection to {EndPoint} restored; re-registering this node's devices")]
    private static partial void LogConnectionRestored(ILogger logger, string endPoint);
}
