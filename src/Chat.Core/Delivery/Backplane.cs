namespace Chat.Core.Delivery;

/// <summary>An event for devices, encoded once; the same bytes go to every recipient.</summary>
/// <param name="ChatId">Set for <c>new_message</c> events: the connection orders them by <paramref name="Seq"/>.</param>
/// <param name="ExcludeDeviceId">A device that must not get it (the sender's own device, the reading device).</param>
public sealed record OutboundEvent(ReadOnlyMemory<byte> Payload, string? ChatId = null, long Seq = 0, string? ExcludeDeviceId = null)
{
    public bool IsMessage => ChatId is not null;
}

/// <summary>
/// The scale-out seam: moves events to the devices of users wherever they are connected.
/// In-process by default (one node); Redis for many nodes. Delivery through it is best effort:
/// the store and device pointers are the truth, and a device catches up on reconnect or on a seq gap.
/// </summary>
public interface IBackplane
{
    ValueTask SendToUsersAsync(IReadOnlyCollection<string> userIds, OutboundEvent evt, CancellationToken ct);
    ValueTask CloseDeviceAsync(string userId, string deviceId, int closeCode, CancellationToken ct);
    /// <summary>A user's aggregate presence changed: every node tells its local subscribers.</summary>
    ValueTask PublishPresenceAsync(string userId, ReadOnlyMemory<byte> presenceFrame, CancellationToken ct);
    /// <summary>A chat's membership changed: every node drops its cached member list.</summary>
    ValueTask InvalidateChatAsync(string chatId, CancellationToken ct);
    /// <summary>Called when a device connects to / leaves this node (lets a distributed backplane route to it).</summary>
    ValueTask RegisterAsync(string userId, string deviceId, CancellationToken ct);
    ValueTask UnregisterAsync(string userId, string deviceId, CancellationToken ct);
}

/// <summary>What a backplane calls on this node: the local connection hub.</summary>
public interface ILocalDelivery
{
    void DeliverLocal(IReadOnlyCollection<string> userIds, OutboundEvent evt);
    void CloseLocal(string deviceId, int closeCode);
    void PresenceLocal(string userId, ReadOnlyMemory<byte> presenceFrame);
    void InvalidateLocal(string chatId);
}

/// <summary>The single-node backplane: everything is local.</summary>
public sealed class LocalBackplane(ILocalDelivery local) : IBackplane
{
    public ValueTask SendToUsersAsync(IReadOnlyCollection<string> userIds, OutboundEvent evt, CancellationToken ct)
    {
        local.DeliverLocal(userIds, evt);
        return ValueTask.CompletedTask;
    }

    public ValueTask CloseDeviceAsync(string userId, string deviceId, int closeCode, CancellationToken ct)
    {
        local.CloseLocal(deviceId, closeCode);
        return ValueTask.CompletedTask;
    }

    public ValueTask PublishPresenceAsync(string userId, ReadOnlyMemory<byte> presenceFrame, CancellationToken ct)
    {
        local.PresenceLocal(userId, presenceFrame);
        return ValueTask.CompletedTask;
    }

    public ValueTask InvalidateChatAsync(string chatId, CancellationToken ct)
    {
        local.InvalidateLocal(chatId);
        return ValueTask.CompletedTask;
    }

    public ValueTask RegisterAsync(string userId, string deviceId, CancellationToken ct) => ValueTask.CompletedTask;
    public ValueTask UnregisterAsync(string userId, string deviceId, CancellationToken ct) => ValueTask.CompletedTask;
}
