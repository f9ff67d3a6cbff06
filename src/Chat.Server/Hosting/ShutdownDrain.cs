using Chat.Core.Delivery;
using Chat.Core.Messaging;
using Chat.Protocol;

namespace Chat.Server.Hosting;

/// <summary>
/// SIGTERM: new sockets are refused (the /ws endpoint checks ApplicationStopping), queued messages are committed and
/// acked, delivery pointers flushed, then every socket is closed with 1001 once its queue drained. This runs in
/// <see cref="StoppingAsync"/>, i.e. before any hosted service (Kestrel included) starts stopping.
/// </summary>
internal sealed partial class ShutdownDrain(MessageCommitter committer, DeliveryService delivery, ConnectionHub hub, ILogger<ShutdownDrain> log) : IHostedLifecycleService
{
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        LogDraining(log, hub.Count, committer.QueueLength);
        committer.Complete();
        if (committer.ExecuteTask is { } running) await running.WaitAsync(cancellationToken);
        await delivery.FlushAsync(cancellationToken);
        hub.CloseAll(CloseCodes.ShuttingDown);
        // Give the send pumps a moment to flush their queues and the close handshakes to finish.
        for (int i = 0; i < 40 && hub.Count > 0; i++) await Task.Delay(50, cancellationToken);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(1001, LogLevel.Information, "Shutting down: draining {Connections} connections and {Queued} queued messages")]
    private static partial void LogDraining(ILogger logger, int connections, int queued);
}
