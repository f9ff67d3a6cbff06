using System.Text;
using Chat.Core.Delivery;
using Chat.Core.Domain;

namespace Chat.Tests.Seams;

/// <summary>
/// A connected device without a socket: records every frame it is given (as text) and the code it was closed with.
/// Its cursor is live from the start (no catch-up to wait for), so in-order message events are pushed to it.
/// </summary>
public sealed class RecordingSink : IDeviceSink
{
    private readonly List<string> _frames = [];
    private readonly CancellationTokenSource _aborted = new();
    private int _closeCode;

    public RecordingSink(UserId userId, DeviceId deviceId)
    {
        UserId = userId;
        DeviceId = deviceId;
        Cursor = new DeliveryCursor(deviceId);
        Cursor.GoLive();
    }

    public UserId UserId { get; }
    public DeviceId DeviceId { get; }
    public long DeviceCreatedAt { get; } = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    public DeliveryCursor Cursor { get; }
    public CancellationToken Aborted => _aborted.Token;

    /// <summary>The frames received so far, in order.</summary>
    public IReadOnlyList<string> Frames
    {
        get
        {
            lock (_frames) return [.. _frames];
        }
    }

    /// <summary>The code of the first Close, or null while open.</summary>
    public int? ClosedWith => Volatile.Read(ref _closeCode) is var c and not 0 ? c : null;

    public bool Has(string frame) => Frames.Contains(frame);

    public bool TrySend(ReadOnlyMemory<byte> frame)
    {
        string text = Encoding.UTF8.GetString(frame.Span);
        lock (_frames) _frames.Add(text);
        return true;
    }

    public ValueTask SendWhenRoomAsync(ReadOnlyMemory<byte> frame, CancellationToken ct)
    {
        TrySend(frame);
        return ValueTask.CompletedTask;
    }

    public void Close(int closeCode)
    {
        if (Interlocked.CompareExchange(ref _closeCode, closeCode, 0) == 0) _aborted.Cancel();
    }

    public override string ToString() => $"device {DeviceId.Value[^6..]} of {UserId.Value[^6..]}";
}
