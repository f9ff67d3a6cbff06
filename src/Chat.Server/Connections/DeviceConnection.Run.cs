using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Chat.Core;
using Chat.Core.Chats;
using Chat.Core.Domain;
using Chat.Protocol;

namespace Chat.Server.Connections;

internal sealed partial class DeviceConnection
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    // Every server frame is encoded with "type" first, so a prefix tells a new_message apart without parsing.
    private static readonly byte[] NewMessagePrefix = "{\"type\":\"new_message\""u8.ToArray();

    /// <summary>Runs the connection to its end: ready, catch-up, then the two pumps until either stops.</summary>
    public async Task RunAsync(GatewayServices g, CancellationToken shutdown)
    {
        if (await RefusedAsExtraSocketAsync(g)) return;
        using var link = CancellationTokenSource.CreateLinkedTokenSource(_aborted.Token, shutdown);
        var ct = link.Token;
        // ready is queued before the hub can route anything here, so it is always the first frame.
        TrySend(Frames.Encode(new ReadyFrame(UserId.Value, DeviceId.Value, g.Time.NowMs(), g.Options.Value.Gateway.HeartbeatIntervalMs)));
        g.Hub.Add(this);
        LogConnected(_log, DeviceId.Value);
        var sending = SendPumpAsync();
        try
        {
            await g.Backplane.RegisterAsync(UserId, DeviceId, ct);
            await g.Presence.ConnectedAsync(this, ct);
            var catchUp = CatchUpAsync(g, ct);
            await ReceivePumpAsync(g, ct);
            await catchUp;
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException)
        {
            LogConnectionError(_log, DeviceId.Value, ex);
        }
        finally
        {
            await TearDownAsync(g, sending);
        }
    }

    /// <summary>
    /// Chat:Limits:SocketsPerDevice / SocketsPerUser: a socket beyond the limit for its device token or its user (counted
    /// on this node, at connect) is closed with 4029 before anything is set up for it; the other sockets are left alone.
    /// </summary>
    private async Task<bool> RefusedAsExtraSocketAsync(GatewayServices g)
    {
        var limits = g.Options.Value.Limits;
        var mine = g.Hub.DevicesOf(UserId);
        int limit = limits.SocketsPerDevice;
        bool deviceFull = limit > 0 && mine.Count(s => s.DeviceId == DeviceId) >= limit;
        if (!deviceFull)
        {
            limit = limits.SocketsPerUser;
            if (limit <= 0 || mine.Length < limit) return false;
        }
        LogTooManySockets(_log, DeviceId.Value, limit);
        Interlocked.Exchange(ref _closeCode, CloseCodes.TooManyConnections);
        using var timeout = new CancellationTokenSource(CloseGrace);
        try
        {
            await _ws.CloseAsync((WebSocketCloseStatus)CloseCodes.TooManyConnections, Describe(CloseCodes.TooManyConnections), timeout.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException)
        {
        }
        _aborted.Dispose();
        return true;
    }

    /// <summary>
    /// Undoes everything the connection set up. Each step runs even when an earlier one threw: a failing typing relay
    /// or store must not leave the device "online" in presence or its route registered on the backplane.
    /// </summary>
    private async Task TearDownAsync(GatewayServices g, Task sending)
    {
        Step("close", () => Close(_ws.State == WebSocketState.CloseReceived ? 1000 : CloseCodes.ShuttingDown));
        await StepAsync("send pump", () => sending);
        Step("hub", () => g.Hub.Remove(this));
        Step("presence subscriptions", () => g.Presence.UnsubscribeAll(this, Subscriptions));
        await StepAsync("typing", () => g.Typing.DeviceGoneAsync(DeviceId.Value));
        await StepAsync("presence", () => g.Presence.DisconnectedAsync(this));
        // The device list shows when a device was last connected.
        await StepAsync("device last active", () => g.Users.TouchDevicesAsync([(DeviceId.Value, g.Time.NowMs())], CancellationToken.None));
        await StepAsync("backplane route", () => g.Backplane.UnregisterAsync(UserId, DeviceId, CancellationToken.None).AsTask());
        LogDisconnected(_log, DeviceId.Value, _closeCode);
        _aborted.Dispose();
    }

    private void Step(string step, Action action)
    {
        try
        {
            action();
        }
        catch (Exception ex)
        {
            LogTeardownStepFailed(_log, step, DeviceId.Value, ex);
        }
    }

    private async Task StepAsync(string step, Func<Task> action)
    {
        try
        {
            await action();
        }
        catch (Exception ex)
        {
            LogTeardownStepFailed(_log, step, DeviceId.Value, ex);
        }
    }

    private async Task CatchUpAsync(GatewayServices g, CancellationToken ct)
    {
        try
        {
            await g.Delivery.CatchUpAsync(this, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Without catch-up this device would silently miss messages: end the connection so it retries.
            LogConnectionError(_log, DeviceId.Value, ex);
            Close(CloseCodes.ShuttingDown);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task ReceivePumpAsync(GatewayServices g, CancellationToken ct)
    {
        int max = g.Options.Value.Gateway.MaxFrameBytes;
        int maxFragments = g.Options.Value.Limits.MaxFragmentsPerMessage;
        byte[]? buffer = null;
        try
        {
            while (!IsClosed)
            {
                // Wait for data with no buffer: an idle socket holds no receive buffer (memory per connection).
                var peek = await _ws.ReceiveAsync(Memory<byte>.Empty, ct);
                if (peek.MessageType == WebSocketMessageType.Close) return;
                buffer = ArrayPool<byte>.Shared.Rent(4096);
                int length = 0;
                int reads = 0;
                ValueWebSocketReceiveResult result = peek;
                while (!result.EndOfMessage)
                {
                    // Endless (empty) continuation frames would otherwise hold the socket forever at no byte cost.
                    if (++reads > maxFragments)
                    {
                        await CloseAndDrainAsync(CloseCodes.TooBig, ct);
                        return;
                    }
                    if (length == buffer.Length)
                    {
                        byte[] bigger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, max + 1));
                        buffer.AsSpan(0, length).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                    }
                    result = await _ws.ReceiveAsync(buffer.AsMemory(length, Math.Min(buffer.Length, max + 1) - length), ct);
                    length += result.Count;
                    if (result.MessageType == WebSocketMessageType.Close) return;
                    if (length > max)
                    {
                        await CloseAndDrainAsync(CloseCodes.TooBig, ct);
                        return;
                    }
                }

                // Only a complete message is real traffic: fragments alone never keep an idle socket open.
                Touch();
                if (result.MessageType == WebSocketMessageType.Binary)
                    SendError(ErrorCodes.InvalidJson, "Frames must be UTF-8 JSON text.", null);
                else if (!IsValidUtf8(buffer.AsSpan(0, length)))
                {
                    await CloseAndDrainAsync(CloseCodes.InvalidUtf8, ct);
                    return;
                }
                else await HandleFrameAsync(g, buffer.AsMemory(0, length), ct);
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = null;
            }
        }
        finally
        {
            if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Closes because of what the peer sent, then keeps reading (and dropping) until the peer's close frame:
    /// ending the TCP connection before the peer read our close frame would lose the close code.
    /// </summary>
    private async Task CloseAndDrainAsync(int code, CancellationToken ct)
    {
        Close(code);
        byte[] sink = ArrayPool<byte>.Shared.Rent(1024);
        try
        {
            // Close() aborts after its grace period, so a peer that keeps sending cannot hold this loop.
            while ((await _ws.ReceiveAsync(sink.AsMemory(), ct)).MessageType != WebSocketMessageType.Close)
            {
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(sink);
        }
    }

    private static bool IsValidUtf8(ReadOnlySpan<byte> bytes)
    {
        try
        {
            StrictUtf8.GetCharCount(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }

    private async Task HandleFrameAsync(GatewayServices g, ReadOnlyMemory<byte> json, CancellationToken ct)
    {
        ClientFrame? frame;
        try
        {
            frame = JsonSerializer.Deserialize(json.Span, ChatJson.Default.ClientFrame);
        }
        catch (JsonException)
        {
            if (!Admit(FrameClass.Other, null)) return;
            // Valid JSON with a wrongly typed field is a bad request; its client_msg_id (when it is a string) is still echoed.
            if (ReadObject(json, out string? clientMsgId))
                SendError(ErrorCodes.InvalidRequest, "A field has the wrong type.", clientMsgId);
            else
                SendError(ErrorCodes.InvalidJson, "The frame is not a JSON object.", null);
            return;
        }
        if (frame is null)
        {
            if (!Admit(FrameClass.Other, null)) return;
            SendError(ErrorCodes.InvalidJson, "The frame is not a JSON object.", null);
            return;
        }
        if (!Admit(FrameBudget.Classify(frame.Type), frame.ClientMsgId)) return;
        try
        {
            switch (frame.Type)
            {
                case "new_message":
                    await g.Messaging.SendAsync(this, frame, ct);
                    break;
                case "ack":
                    await g.Delivery.AckAsync(UserId, DeviceId, frame.MessageId, ct);
                    break;
                case "read":
                    await g.Reads.ReadAsync(UserId, DeviceId, frame.ChatId, frame.Seq, frame.MessageId, NonMember.Forbidden, ct);
                    break;
                case "typing_start":
                    await g.Typing.StartTypingAsync(UserId.Value, DeviceId.Value, frame.ChatId, ct);
                    break;
                case "typing_stop":
                    await g.Typing.StopTypingAsync(UserId.Value, frame.ChatId, ct);
                    break;
                case "heartbeat":
                    TrySend(Frames.Encode(new HeartbeatAckFrame(g.Time.NowMs())));
                    await g.Presence.HeartbeatAsync(this, ct);
                    break;
                case "set_status":
                    await g.Presence.SetStatusAsync(this, frame.Status, ct);
                    break;
                case "presence_subscribe":
                    await g.Presence.SubscribeAsync(this, Subscriptions, frame.UserIds, ct);
                    break;
                case "presence_unsubscribe":
                    g.Presence.Unsubscribe(this, Subscriptions, frame.UserIds);
                    break;
                case ClientFrameTypes.EditMessage:
                    await g.Actions.EditAsync(UserId, frame, ct);
                    break;
                case ClientFrameTypes.DeleteMessage:
                    await g.Actions.DeleteAsync(UserId, frame, ct);
                    break;
                case ClientFrameTypes.React or ClientFrameTypes.Unreact:
                    await g.Actions.ReactAsync(UserId, frame, frame.Type == ClientFrameTypes.React, ct);
                    break;
                case null or "":
                    SendError(ErrorCodes.InvalidRequest, "type is required.", frame.ClientMsgId);
                    break;
                default:
                    SendError(ErrorCodes.UnknownType, $"Unknown frame type '{Truncate(frame.Type)}'.", frame.ClientMsgId);
                    break;
            }
        }
        catch (ChatException ex)
        {
            SendError(ex.Code, ex.Message, frame.ClientMsgId, ex.RetryAfterMs, frame.RequestId);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (Chat.Core.Storage.StorageSpace.IsDiskFull(ex))
        {
            SendError(ErrorCodes.Unavailable, Chat.Core.Storage.StorageFullException.ClientMessage, frame.ClientMsgId, requestId: frame.RequestId);
        }
        catch (Exception ex) when (Chat.Core.Storage.StoreOutage.Is(ex))
        {
            LogFrameFailed(_log, frame.Type, DeviceId.Value, ex);
            SendError(ErrorCodes.Unavailable, Chat.Core.Storage.StoreOutage.ClientMessage, frame.ClientMsgId, 1000, frame.RequestId);
        }
        catch (Exception ex)
        {
            LogFrameFailed(_log, frame.Type, DeviceId.Value, ex);
            SendError(ErrorCodes.Internal, "Something went wrong on the server.", frame.ClientMsgId, requestId: frame.RequestId);
        }
    }

    /// <summary>
    /// Takes the frame's token from this socket's budget. Over budget the frame is dropped: typing silently, anything
    /// else answered with rate_limited at most once per interval. The socket stays open — the contract's close codes
    /// have none for "too many frames", and a dropped frame costs the node a parse and a counter.
    /// </summary>
    private bool Admit(FrameClass frameClass, string? clientMsgId)
    {
        if (_budget.TryTake(frameClass, out int retryAfterMs)) return true;
        if (frameClass != FrameClass.Typing && _budget.MayAnswer())
            SendError(ErrorCodes.RateLimited, "Too many frames of this kind on this connection; wait and retry.", clientMsgId, retryAfterMs);
        return false;
    }

    /// <summary>True when the frame is a JSON object; then also its client_msg_id if that is a string.</summary>
    private static bool ReadObject(ReadOnlyMemory<byte> json, out string? clientMsgId)
    {
        clientMsgId = null;
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) return false;
            if (doc.RootElement.TryGetProperty("client_msg_id", out var id) && id.ValueKind == JsonValueKind.String)
                clientMsgId = id.GetString() is { Length: <= 64 } s ? s : null;
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string Truncate(string s) => s.Length <= 40 ? s : s[..40];

    private void SendError(string code, string message, string? clientMsgId, int? retryAfterMs = null, string? requestId = null) =>
        TrySend(Frames.Encode(new ErrorFrame(code, message, clientMsgId, retryAfterMs) { RequestId = requestId }));

    private async Task SendPumpAsync()
    {
        var reader = _outbox.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_aborted.Token))
            {
                while (reader.TryRead(out var frame))
                {
                    int code = Volatile.Read(ref _closeCode);
                    if (code != 0 && code != CloseCodes.ShuttingDown) // 4001/4008/1009...: drop the rest; 1001 drains
                    {
                        Interlocked.Add(ref _queuedBytes, -frame.Length);
                        break;
                    }
                    await _ws.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, _aborted.Token);
                    Interlocked.Add(ref _queuedBytes, -frame.Length);
                    if (frame.Span.StartsWith(NewMessagePrefix)) _metrics.MessagesDelivered.Add(1);
                    if (_roomWaiter is { } w && reader.Count < _capacity / 2 && QueuedBytes < _maxBytes / 2)
                        Interlocked.CompareExchange(ref _roomWaiter, null, w)?.TrySetResult();
                }
                if (Volatile.Read(ref _closeCode) is var c && c != 0 && c != CloseCodes.ShuttingDown) break;
            }
            DropQueued();
            int closeCode = Volatile.Read(ref _closeCode);
            if (_ws.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var timeout = new CancellationTokenSource(closeCode == CloseCodes.SlowConsumer ? SlowConsumerCloseTimeout : CloseGrace);
                await _ws.CloseOutputAsync((WebSocketCloseStatus)(closeCode == 0 ? 1000 : closeCode), Describe(closeCode), timeout.Token);
                Volatile.Write(ref _closeSent, 1);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
        {
        }
        finally
        {
            _roomWaiter?.TrySetResult();
        }
    }

    private static string Describe(int code) => code switch
    {
        CloseCodes.Unauthorized => "unauthorized",
        CloseCodes.IdleTimeout => "idle timeout",
        CloseCodes.SlowConsumer => "slow consumer",
        CloseCodes.TooManyConnections => "too_many_connections",
        CloseCodes.TooBig => "frame too big",
        CloseCodes.InvalidUtf8 => "invalid utf-8",
        CloseCodes.ShuttingDown => "server shutting down",
        _ => "",
    };
}
