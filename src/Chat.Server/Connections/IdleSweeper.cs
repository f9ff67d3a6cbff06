using Chat.Core;
using Chat.Core.Delivery;
using Chat.Protocol;
using Microsoft.Extensions.Options;

namespace Chat.Server.Connections;

/// <summary>One timer for all sockets: closes those that sent nothing within the idle timeout (4002).</summary>
internal sealed class IdleSweeper(ConnectionHub hub, IOptions<ChatOptions> options) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        long timeoutMs = (long)(options.Value.Gateway.IdleTimeoutSeconds * 1000);
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(Math.Clamp(timeoutMs / 10, 100, 5000)));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                long now = Environment.TickCount64;
                foreach (var sink in hub.All())
                    if (sink is DeviceConnection c && now - c.LastReceivedMs > timeoutMs) c.Close(CloseCodes.IdleTimeout);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
