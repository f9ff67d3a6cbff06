using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Chat.Protocol;

namespace Chat.Client;

/// <summary>
/// The WebSocket half of the .NET SDK. Frames are kept as JSON (the protocol is open: new fields and events may appear);
/// <see cref="NextAsync(string, TimeSpan?)"/> waits for the next frame of a type, keeping the others for later reads.
/// </summary>
public sealed class ChatSocket : IAsyncDisposable
{
    private readonly ClientWebSocket _ws;
    private readonly Channel<JsonElement> _inbox = Channel.CreateUnbounded<JsonElement>();
    private readonly List<JsonElement> _stash = [];
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _receiving;

    private ChatSocket(ClientWebSocket ws, bool autoAck)
    {
        _ws = ws;
        AutoAck = autoAck;
        _receiving = ReceiveLoopAsync();
    }

    /// <summary>Ack every received new_message automatically (as a real client does after storing it).</summary>
    public bool AutoAck { get; set; }

    /// <summary>Stop reading the socket (to simulate a stuck client); frames pile up in the kernel buffers.</summary>
    public bool Paused { get; set; }

    public int? CloseCode { get; private set; }
    public Task Closed => _receiving;
    public WebSocketState State => _ws.State;

    public static async Task<ChatSocket> ConnectAsync(Uri baseAddress, string? token, bool autoAck = true, string? extraQuery = null, CancellationToken ct = default)
    {
        var ws = new ClientWebSocket();
        var builder = new UriBuilder(baseAddress) { Scheme = baseAddress.Scheme == "https" ? "wss" : "ws", Path = "/ws" };
        var query = new List<string>();
        if (token is not null) query.Add("token=" + Uri.EscapeDataString(token));
        if (extraQuery is not null) query.Add(extraQuery);
        builder.Query = string.Join('&', query);
        await ws.ConnectAsync(builder.Uri, ct);
        return new ChatSocket(ws, autoAck);
    }

    public async Task SendRawAsync(string text, CancellationToken ct = default) => await SendBytesAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, ct);

    public async Task SendBytesAsync(byte[] bytes, WebSocketMessageType type, CancellationToken ct = default)
    {
        await _sendLock.WaitAsync(ct);
        try
        {
            await _ws.SendAsync(bytes, type, true, ct);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Sends a frame given as an anonymous object or JsonObject (snake_case names as written).</summary>
    public Task SendAsync(JsonObject frame, CancellationToken ct = default) => SendRawAsync(frame.ToJsonString(), ct);

    /// <summary>Sends a typed client frame, serialized by Chat.Protocol's <see cref="ChatJson"/> (nulls omitted).</summary>
    public Task SendFrameAsync(ClientFrame frame, CancellationToken ct = default) => SendBytesAsync(Frames.Encode(frame), WebSocketMessageType.Text, ct);

    public Task SendMessageFrameAsync(string chatId, string content, string clientMsgId, string? fileId = null, CancellationToken ct = default) =>
        SendFrameAsync(new ClientFrame
        {
            Type = ClientFrameTypes.NewMessage,
            ChatId = chatId,
            Content = content,
            ClientMsgId = clientMsgId,
            Attachment = fileId is null ? null : new AttachmentRef { FileId = fileId },
        }, ct);

    /// <summary>Sends a message and waits for its ack (or throws with the error frame).</summary>
    public async Task<JsonElement> SendMessageAsync(string chatId, string content, string? clientMsgId = null, string? fileId = null, TimeSpan? timeout = null)
    {
        clientMsgId ??= Guid.NewGuid().ToString("N");
        await SendMessageFrameAsync(chatId, content, clientMsgId, fileId);
        var reply = await NextAsync(f => (f.Type() is "ack" or "error") && f.Str("client_msg_id") == clientMsgId, timeout);
        if (reply.Type() == "error") throw new InvalidOperationException($"error {reply.Str("code")}: {reply.Str("error")}");
        return reply;
    }

    public Task AckAsync(string messageId) => SendFrameAsync(new ClientFrame { Type = ClientFrameTypes.Ack, MessageId = messageId });

    public Task<JsonElement> NextAsync(string type, TimeSpan? timeout = null) => NextAsync(f => f.Type() == type, timeout);

    /// <summary>The next frame matching; frames skipped meanwhile stay available to later calls, in order.</summary>
    public async Task<JsonElement> NextAsync(Func<JsonElement, bool> match, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        lock (_stash)
        {
            int i = _stash.FindIndex(f => match(f));
            if (i >= 0)
            {
                var hit = _stash[i];
                _stash.RemoveAt(i);
                return hit;
            }
        }
        try
        {
            while (true)
            {
                var frame = await _inbox.Reader.ReadAsync(cts.Token);
                if (match(frame)) return frame;
                lock (_stash) _stash.Add(frame);
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            throw new TimeoutException($"No matching frame within {timeout ?? TimeSpan.FromSeconds(10)} (close code {CloseCode}).");
        }
        catch (ChannelClosedException)
        {
            throw new InvalidOperationException($"Socket closed with {CloseCode} before a matching frame arrived.");
        }
    }

    /// <summary>Frames received so far and not yet consumed by <see cref="NextAsync(string, TimeSpan?)"/>.</summary>
    public List<JsonElement> Drain()
    {
        lock (_stash)
        {
            while (_inbox.Reader.TryRead(out var f)) _stash.Add(f);
            var all = _stash.ToList();
            _stash.Clear();
            return all;
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[128 * 1024];
        try
        {
            while (true)
            {
                while (Paused) await Task.Delay(20, _stop.Token);
                int length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (length == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2);
                    result = await _ws.ReceiveAsync(buffer.AsMemory(length), _stop.Token);
                    length += result.Count;
                }
                while (!result.EndOfMessage);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    CloseCode = (int?)_ws.CloseStatus;
                    if (_ws.State == WebSocketState.CloseReceived)
                        await _ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
                    return;
                }
                var frame = JsonDocument.Parse(buffer.AsMemory(0, length)).RootElement.Clone();
                if (AutoAck && frame.Type() == "new_message") _ = AckAsync(frame.Str("message_id")!);
                await _inbox.Writer.WriteAsync(frame);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            CloseCode ??= (int?)_ws.CloseStatus;
        }
        finally
        {
            _inbox.Writer.TryComplete();
        }
    }

    public async Task CloseAsync()
    {
        try
        {
            if (_ws.State == WebSocketState.Open)
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", cts.Token);
                await _receiving.WaitAsync(TimeSpan.FromSeconds(2));
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or TimeoutException)
        {
        }
    }

    /// <summary>Drops the connection without a close handshake (a crashed or vanished client).</summary>
    public void Abort()
    {
        _ws.Abort();
        _stop.Cancel();
    }

    public async ValueTask DisposeAsync()
    {
        await CloseAsync();
        _stop.Cancel();
        _ws.Dispose();
        try
        {
            await _receiving;
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
        }
        _stop.Dispose();
        _sendLock.Dispose();
    }
}

public static class FrameExtensions
{
    public static string? Type(this JsonElement frame) => frame.Str("type");

    public static string? Str(this JsonElement frame, string name) =>
        frame.ValueKind == JsonValueKind.Object && frame.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public static long Long(this JsonElement frame, string name) => frame.GetProperty(name).GetInt64();
}
