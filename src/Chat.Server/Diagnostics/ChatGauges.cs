using Chat.Core.Delivery;
using Chat.Core.Diagnostics;
using Chat.Core.Messaging;
using Chat.Server.Connections;

namespace Chat.Server.Diagnostics;

/// <summary>Hooks the node's live state (connections, queues, subscriptions) to the gauges of <see cref="ChatMetrics"/>.</summary>
internal sealed class ChatGauges(ChatMetrics metrics, ConnectionHub hub, MessageCommitter committer, AuthFrameGate authFrames) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        metrics.ObserveState(
            () => hub.Count,
            () => hub.All().Sum(s => s is DeviceConnection c ? (long)c.QueueLength : 0),
            () => committer.QueueLength,
            () => hub.PresenceSubscriptionCount,
            () => authFrames.Pending);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
