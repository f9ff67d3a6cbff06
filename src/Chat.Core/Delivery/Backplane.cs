using Chat.Core.Domain;

namespace Chat.Core.Delivery;

/// <summary>An event for devices, encoded once; the same bytes go to every recipient.</summary>
/// <param name="ChatId">Set for <c>new_message</c> events: the connection orders them by <paramref name="Seq"/>.</param>
/// <param name="ExcludeDeviceId">A device that must not get it (the sender's own device, the reading device).</param>
public sealed record OutboundEvent(ReadOnlyMemory<byte> Payload, ChatId? ChatId = null, long Seq = 0, DeviceId? ExcludeDeviceId = null)
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
    ValueTask SendToUsersAsync(IReadOnlyCollection<UserId> userIds, OutboundEvent evt, CancellationToken ct);
    ValueTask CloseDeviceAsync(UserId userId, DeviceId deviceId, int closeCode, CancellationToken ct);
    /// <summary>
    /// A user's aggregate presence changed: every node tells its local subscribers, except the devices of
    /// <paramref name="hiddenFrom"/> (the users this user blocked).
    /// </summary>
    ValueTask PublishPresenceAsync(UserId userId, ReadOnlyMemory<byte> presenceFrame, IReadOnlyCollection<UserId> hiddenFrom, CancellationToken ct);
    /// <summary>A chat's membership changed: every node drops its cached member list.</summary>
    ValueTask InvalidateChatAsync(ChatId chatId, CancellationToken ct);
    /// <summary>Called when a device connects to / leaves this node (lets a distributed backplane route to it).</summary>
    ValueTask RegisterAsync(UserId userId, DeviceId deviceId, CancellationToken ct);
    ValueTask UnregisterAsync(UserId userId, DeviceId deviceId, CancellationToken ct);
}

/// <summary>What a backplane calls on this node: the local connection hub.</summary>
public interface ILocalDelivery
{
    void DeliverLocal(IReadOnlyCollection<UserId> userIds, OutboundEvent evt);
    void CloseLocal(DeviceId deviceId, int closeCode);
    void PresenceLocal(UserId userId, ReadOnlyMemory<byte> presenceFrame, IReadOnlyCollection<UserId> hiddenFrom);
    void InvalidateLocal(ChatId chatId);
}

/// <summary>The single-node backplane: everything is local.</summary>
public sealed class LocalBackplane(ILocalDelivery local) : IBackplane
{
    public ValueTask SendToUsersAsync(IReadOnlyCollection<UserId> userIds, OutboundEvent evt, CancellationToken ct)
    {
        local.DeliverLocal(userIds, evt);
        return ValueTask.CompletedTask;
    }

    public ValueTask CloseDeviceAsync(UserId userId, DeviceId deviceId, int closeCode, CancellationToken ct)
    {
        local.CloseLocal(deviceId, closeCode);
        return ValueTask.CompletedTask;
    }

    public ValueTask PublishPresenceAsync(UserId userId, ReadOnlyMemory<byte> presenceFrame, IReadOnlyCollection<UserId> hiddenFrom, CancellationToken ct)
    {
        local.PresenceLocal(userId, presenceFrame, hiddenFrom);
        return ValueTask.CompletedTask;
    }

    public ValueTask InvalidateChatAsync(ChatId chatId, CancellationToken ct)
    {
        local.InvalidateLocal(chatId);
        return ValueTask.CompletedTask;
    }

    public ValueTask RegisterAsync(UserId userId, DeviceId deviceId, CancellationToken ct) => ValueTask.CompletedTask;
    public ValueTask UnregisterAsync(UserId userId, DeviceId deviceId, CancellationToken ct) => ValueTask.CompletedTask;
}
