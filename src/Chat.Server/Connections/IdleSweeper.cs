using Chat.Core;
using Chat.Core.Background;
using Chat.Core.Delivery;
using Chat.Protocol;
using Microsoft.Extensions.Options;

namespace Chat.Server.Connections;

/// <summary>One timer for all sockets: closes those that sent nothing within the idle timeout (4002).</summary>
internal sealed class IdleSweeper(ConnectionHub hub, IOptions<ChatOptions> options, TimeProvider time, ILogger<IdleSweeper> log)
    : PeriodicService(time, log)
{
    private readonly TimeSpan _timeout = TimeSpan.FromSeconds(options.Value.Gateway.IdleTimeoutSeconds);

    protected override TimeSpan Interval => TimeSpan.FromMilliseconds(Math.Clamp(_timeout.TotalMilliseconds / 10, 100, 5000));

    protected override Task StepAsync(CancellationToken ct)
    {
        foreach (var sink in hub.All())
            if (sink is DeviceConnection c && c.SilentFor > _timeout) c.Close(CloseCodes.IdleTimeout);
        return Task.CompletedTask;
    }
}
