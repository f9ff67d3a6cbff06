using Chat.Core.Delivery;
using Chat.Core.Protocol;
using Chat.Core.Services;

namespace Chat.Server.Hosting;

/// <summary>
/// SIGTERM: new sockets are refused (the /ws endpoint checks ApplicationStopping), queued messages are committed and
/// acked, delivery pointers flushed, then every socket is closed with 1001 after its queue drained.
/// </summary>
internal sealed partial class ShutdownDrain(MessageCommitter committer, DeliveryService delivery, ConnectionHub hub, ILogger<ShutdownDrain> log) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        LogDraining(log, hub.Count, committer.QueueLength);
        committer.Complete();
        if (committer.ExecuteTask is { } running) await running.WaitAsync(cancellationToken);
        await delivery.FlushAsync(cancellationToken);
        hub.CloseAll(CloseCodes.ShuttingDown);
    }

    [LoggerMessage(1001, LogLevel.Information, "Shutting down: draining {Connections} connections and {Queued} queued messages")]
    private static partial void LogDraining(ILogger logger, int connections, int queued);
}
