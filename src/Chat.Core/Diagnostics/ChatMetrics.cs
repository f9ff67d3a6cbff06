using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Chat.Core.Diagnostics;

/// <summary>The server's own instruments (meter "Chat"), exported at /metrics. docs/operations.md describes each.</summary>
public sealed class ChatMetrics : IDisposable
{
    public const string MeterName = "Chat";
    private readonly Meter _meter = new(MeterName);
    private readonly ConcurrentQueue<(string Name, Func<int> Entries)> _caches = new();

    public ChatMetrics()
    {
        MessagesAccepted = _meter.CreateCounter<long>("chat.messages.accepted", "{message}", "Messages stored (first time, not retries).");
        MessagesDelivered = _meter.CreateCounter<long>("chat.messages.delivered", "{message}", "new_message frames written to sockets (live and catch-up).");
        CommitBatchSize = _meter.CreateHistogram<int>("chat.commit.batch_size", "{message}", "Messages per group-commit transaction.");
        CommitLatency = _meter.CreateHistogram<double>("chat.commit.duration", "ms", "Time of one group-commit transaction.");
        SlowConsumerDisconnects = _meter.CreateCounter<long>("chat.connections.slow_consumer_closed", "{connection}", "Sockets closed with 4008.");
        BackplanePublished = _meter.CreateCounter<long>("chat.backplane.published", "{event}", "Events published to other nodes.");
        BackplaneReceived = _meter.CreateCounter<long>("chat.backplane.received", "{event}", "Events received from other nodes.");
        CacheEvictions = _meter.CreateCounter<long>("chat.cache.evictions", "{entry}", "Entries dropped because a cache was full (tag: cache).");
        PushSent = _meter.CreateCounter<long>("chat.push.sent", "{push}", "Web Pushes accepted by a push service.");
        PushFailed = _meter.CreateCounter<long>("chat.push.failed", "{push}", "Web Pushes given up (tag reason: gone = 404/410, subscription deleted; error = retries exhausted).");
        PushDropped = _meter.CreateCounter<long>("chat.push.dropped", "{message}", "Messages not considered for push because the push queue was full.");
        PushCollapsed = _meter.CreateCounter<long>("chat.push.collapsed", "{push}", "Pushes skipped: the device was pushed for that chat within the collapse window.");
        _meter.CreateObservableGauge("chat.cache.entries", () => _caches.Select(c =>
            new Measurement<int>(c.Entries(), new KeyValuePair<string, object?>("cache", c.Name))), "{entry}", "Entries held by each in-memory cache (tag: cache).");
    }

    public Counter<long> MessagesAccepted { get; }
    public Counter<long> MessagesDelivered { get; }
    public Histogram<int> CommitBatchSize { get; }
    public Histogram<double> CommitLatency { get; }
    public Counter<long> SlowConsumerDisconnects { get; }
    public Counter<long> BackplanePublished { get; }
    public Counter<long> BackplaneReceived { get; }
    public Counter<long> CacheEvictions { get; }
    public Counter<long> PushSent { get; }
    public Counter<long> PushFailed { get; }
    public Counter<long> PushDropped { get; }
    public Counter<long> PushCollapsed { get; }

    public Meter Meter => _meter;

    /// <summary>
    /// The node's state as gauges, read at each scrape (called once by the host, which knows the connections).
    /// </summary>
    public void ObserveState(Func<int> connectedDevices, Func<long> outboundQueued, Func<int> committerQueue, Func<int> presenceSubscriptions,
        Func<int> pendingAuthSockets)
    {
        _meter.CreateObservableGauge("chat.connections.devices", connectedDevices, "{device}", "Devices connected to this node.");
        _meter.CreateObservableGauge("chat.connections.pending_auth", pendingAuthSockets, "{socket}", "Sockets on this node waiting for their auth frame.");
        _meter.CreateObservableGauge("chat.connections.outbound_queued", outboundQueued, "{frame}", "Frames waiting in the send queues of this node's sockets (sum).");
        _meter.CreateObservableGauge("chat.commit.queue_length", committerQueue, "{message}", "Messages waiting for the group committer.");
        _meter.CreateObservableGauge("chat.presence.subscriptions", presenceSubscriptions, "{subscription}", "Presence subscriptions held by this node's sockets.");
    }

    /// <summary>Reports a cache's size in the <c>chat.cache.entries</c> gauge (called by each BoundedCache).</summary>
    public void ObserveCache(string name, Func<int> entries) => _caches.Enqueue((name, entries));

    public void RecordCommit(int batchSize, double ms)
    {
        CommitBatchSize.Record(batchSize);
        CommitLatency.Record(ms);
    }

    public void Dispose() => _meter.Dispose();
}
