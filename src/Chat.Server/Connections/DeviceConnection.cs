using System.Net.WebSockets;
using System.Threading.Channels;
using Chat.Core;
using Chat.Core.Auth;
using Chat.Core.Delivery;
using Chat.Core.Diagnostics;
using Chat.Core.Domain;
using Chat.Protocol;

namespace Chat.Server.Connections;

/// <summary>
/// One device's WebSocket: a receive pump and a send pump around an outbox bounded in frames and in bytes. Overflowing
/// either bound (a client that stopped reading) closes the socket with 4008 — it never slows anyone else. Closes exactly once.
/// </summary>
#pragma warning disable CA1001 // _aborted is disposed when RunAsync ends: the connection's whole life
internal sealed partial class DeviceConnection : IDeviceSink
#pragma warning restore CA1001
{
    // Long enough for a busy machine to flush the close frame; a peer that never answers is cut off after it.
    private static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(5);
    // A slow consumer's close frame waits behind the frame being written; a peer that does not take it by then is cut off.
    private static readonly TimeSpan SlowConsumerCloseTimeout = TimeSpan.FromSeconds(2);

    private readonly WebSocket _ws;
    private readonly Channel<ReadOnlyMemory<byte>> _outbox;
    private readonly int _capacity;
    private readonly long _maxBytes;
    private long _queuedBytes; // encoded bytes in the outbox, not yet written (Interlocked: TrySend runs on many threads)
    private int _closeSent; // 1 once the close frame is written
    private readonly CancellationTokenSource _aborted = new();
    private readonly ChatMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly FrameBudget _budget; // per-socket frame budgets, used by the receive loop only
    private int _closeCode;
    private TaskCompletionSource? _roomWaiter;
    private long _lastReceived; // a TimeProvider timestamp

    public DeviceConnection(WebSocket ws, Principal principal, ChatOptions options, ChatMetrics metrics, TimeProvider time, ILogger log)
    {
        _ws = ws;
        UserId = new UserId(principal.UserId);
        DeviceId = new DeviceId(principal.DeviceId);
        DeviceCreatedAt = principal.DeviceCreatedAt;
        Cursor = new DeliveryCursor(DeviceId);
        _capacity = options.Gateway.SendQueueFrames;
        _maxBytes = options.Gateway.SendQueueBytes;
        _outbox = Channel.CreateBounded<ReadOnlyMemory<byte>>(new BoundedChannelOptions(_capacity)
        {
            SingleReader = false, // the send pump, and Close(4008) dropping what is left
            FullMode = BoundedChannelFullMode.Wait, // only TryWrite is used: a full outbox means "slow consumer"
        });
        _metrics = metrics;
        _time = time;
        _log = log;
        _budget = new FrameBudget(options.Gateway.FrameLimits, time);
        _lastReceived = time.GetTimestamp();
    }

    public UserId UserId { get; }
    public DeviceId DeviceId { get; }
    public long DeviceCreatedAt { get; }
    public DeliveryCursor Cursor { get; }
    public CancellationToken Aborted => _aborted.Token;
    public HashSet<string> Subscriptions { get; } = new(StringComparer.Ordinal);
    /// <summary>How long nothing arrived from the peer (the idle sweeper closes it after Chat:Gateway:IdleTimeoutSeconds).</summary>
    public TimeSpan SilentFor => _time.GetElapsedTime(Volatile.Read(ref _lastReceived));
    public int QueueLength => _outbox.Reader.Count;
    public long QueuedBytes => Volatile.Read(ref _queuedBytes);
    public bool IsClosed => Volatile.Read(ref _closeCode) != 0;

    public bool TrySend(ReadOnlyMemory<byte> frame)
    {
        // Events are encoded once and shared by every recipient: the bound counts each queue's references to them.
        long queued = Interlocked.Add(ref _queuedBytes, frame.Length);
        // One frame bigger than the whole bound still goes out alone.
        if ((queued <= _maxBytes || queued == frame.Length) && _outbox.Writer.TryWrite(frame)) return true;
        Interlocked.Add(ref _queuedBytes, -frame.Length);
        if (!IsClosed)
        {
            _metrics.SlowConsumerDisconnects.Add(1);
            LogSlowConsumer(_log, DeviceId.Value);
            Close(CloseCodes.SlowConsumer);
        }
        return false;
    }

    public async ValueTask SendWhenRoomAsync(ReadOnlyMemory<byte> frame, CancellationToken ct)
    {
        // Catch-up leaves half of the queue (frames and bytes) to live traffic so that it never causes a slow-consumer close itself.
        while (!HasRoomForCatchUp(frame.Length))
        {
            var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Interlocked.Exchange(ref _roomWaiter, waiter);
            if (HasRoomForCatchUp(frame.Length)) break;
            await waiter.Task.WaitAsync(TimeSpan.FromMilliseconds(250), ct).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            ct.ThrowIfCancellationRequested();
        }
        if (!TrySend(frame)) throw new OperationCanceledException("Connection closed.");
    }

    private bool HasRoomForCatchUp(int length)
    {
        long queued = QueuedBytes;
        return _outbox.Reader.Count < _capacity / 2 && (queued == 0 || queued + length <= _maxBytes / 2);
    }

    public void Close(int closeCode)
    {
        if (Interlocked.CompareExchange(ref _closeCode, closeCode, 0) != 0) return;
        _outbox.Writer.TryComplete();
        if (closeCode == CloseCodes.SlowConsumer)
        {
            // What it never read is released now; the send pump then writes the 4008 close once the frame it is
            // writing is out. A peer whose TCP window stays shut never takes the close: it is cut off after the timeout.
            DropQueued();
            _ = Task.Delay(SlowConsumerCloseTimeout).ContinueWith(_ =>
            {
                if (Volatile.Read(ref _closeSent) == 0) Abort();
            }, TaskScheduler.Default);
        }
        // A peer that does not finish the close handshake in time is cut off.
        _ = Task.Delay(CloseGrace).ContinueWith(_ => Abort(), TaskScheduler.Default);
    }

    private void DropQueued()
    {
        while (_outbox.Reader.TryRead(out var frame)) Interlocked.Add(ref _queuedBytes, -frame.Length);
    }

    private void Abort()
    {
        try
        {
            _aborted.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
        _ws.Abort();
    }

    private void Touch() => Volatile.Write(ref _lastReceived, _time.GetTimestamp());

    [LoggerMessage(2001, LogLevel.Debug, "Device {DeviceId} connected")]
    public static partial void LogConnected(ILogger logger, string deviceId);

    [LoggerMessage(2002, LogLevel.Debug, "Device {DeviceId} disconnected (close code {Code})")]
    public static partial void LogDisconnected(ILogger logger, string deviceId, int code);

    [LoggerMessage(2003, LogLevel.Information, "Device {DeviceId} is a slow consumer; closing its socket with 4008")]
    private static partial void LogSlowConsumer(ILogger logger, string deviceId);

    [LoggerMessage(2007, LogLevel.Information, "Device {DeviceId} (or its user) already has {Limit} sockets on this node; closing the new one with 4029")]
    private static partial void LogTooManySockets(ILogger logger, string deviceId, int limit);

    [LoggerMessage(2004, LogLevel.Error, "Unexpected error handling a '{Type}' frame from device {DeviceId}")]
    private static partial void LogFrameFailed(ILogger logger, string? type, string deviceId, Exception ex);

    [LoggerMessage(2005, LogLevel.Debug, "Connection of device {DeviceId} ended with an error")]
    private static partial void LogConnectionError(ILogger logger, string deviceId, Exception ex);

    [LoggerMessage(2006, LogLevel.Warning, "Teardown step '{Step}' of device {DeviceId} failed; the remaining steps still run")]
    private static partial void LogTeardownStepFailed(ILogger logger, string step, string deviceId, Exception ex);
}
