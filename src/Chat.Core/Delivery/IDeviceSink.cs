using Chat.Core.Domain;

namespace Chat.Core.Delivery;

/// <summary>One connected device as the services see it (a WebSocket in the server).</summary>
public interface IDeviceSink
{
    UserId UserId { get; }
    DeviceId DeviceId { get; }
    long DeviceCreatedAt { get; }

    /// <summary>This connection's delivery state (what was pushed, what needs a resync); owned by the connection, one per socket.</summary>
    DeliveryCursor Cursor { get; }

    /// <summary>Queues a frame without waiting. False when the queue overflowed: the sink then closes itself (4008).</summary>
    bool TrySend(ReadOnlyMemory<byte> frame);

    /// <summary>Queues a frame once the queue has room for live traffic too (catch-up path; never overflows).</summary>
    ValueTask SendWhenRoomAsync(ReadOnlyMemory<byte> frame, CancellationToken ct);

    /// <summary>Closes the socket with this code (idempotent).</summary>
    void Close(int closeCode);

    /// <summary>Cancelled when the connection ends.</summary>
    CancellationToken Aborted { get; }
}
