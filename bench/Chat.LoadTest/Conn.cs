using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Chat.Protocol;

namespace Chat.LoadTest;

/// <summary>
/// Opens WebSockets with raw ClientWebSocket over one SocketsHttpHandler whose ConnectCallback binds each
/// socket to one of several 127.0.0.x source addresses (IP_BIND_ADDRESS_NO_PORT), so more than one
/// ephemeral-port range (~28k) of connections can reach the same server port.
/// </summary>
public sealed class Connector : IDisposable
{
    private readonly IPAddress[] _sources;
    private int _rr = -1;
    public HttpMessageInvoker Invoker { get; }
    public Uri WsBase { get; }
    public IReadOnlyList<IPAddress> Sources => _sources;

    public Connector(Uri baseUri, int sourceCount)
    {
        var b = new UriBuilder(baseUri) { Scheme = baseUri.Scheme == "https" ? "wss" : "ws", Path = "/ws" };
        WsBase = b.Uri;
        bool v6 = baseUri.HostNameType == UriHostNameType.IPv6;
        _sources = v6 ? [] : Enumerable.Range(1, Math.Clamp(sourceCount, 1, 250)).Select(i => new IPAddress(new byte[] { 127, 0, 0, (byte)i })).ToArray();
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            MaxConnectionsPerServer = int.MaxValue,
            ConnectTimeout = TimeSpan.FromSeconds(30),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(5),
            ConnectCallback = ConnectAsync,
        };
        Invoker = new HttpMessageInvoker(handler, disposeHandler: true);
    }

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext ctx, CancellationToken ct)
    {
        var ep = ctx.DnsEndPoint;
        var addr = IPAddress.Parse(ep.Host.Trim('[', ']'));
        var s = new Socket(addr.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (_sources.Length > 0 && addr.AddressFamily == AddressFamily.InterNetwork)
            {
                // IP_BIND_ADDRESS_NO_PORT (24): pick the port at connect() so each source address gets the full 4-tuple space.
                s.SetRawSocketOption(0 /* SOL_IP */, 24, BitConverter.GetBytes(1));
                s.Bind(new IPEndPoint(_sources[(int)((uint)Interlocked.Increment(ref _rr) % (uint)_sources.Length)], 0));
            }
            await s.ConnectAsync(new IPEndPoint(addr, ep.Port), ct);
            return new NetworkStream(s, ownsSocket: true);
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    public void Dispose() => Invoker.Dispose();
}

/// <summary>What a scenario does with the frames a connection receives. Called on the connection's receive loop.</summary>
public interface IFrameSink
{
    void OnNewMessage(Conn c, MessageFrame f);
    void OnAck(Conn c, AckFrame f);
    void OnError(Conn c, ErrorFrame f);
    void OnClosed(Conn c, string reason) { }

    /// <summary>Whether <c>message_updated</c> frames are parsed and passed on (else only counted by type).</summary>
    bool WantsUpdates => false;
    void OnMessageUpdated(Conn c, MessageUpdatedFrame f) { }
}

/// <summary>One device socket: connect, receive loop (acks every new_message like a real client), serialized sends.</summary>
public sealed class Conn
{
    private static readonly byte[] HeartbeatFrame = Frames.Encode(new ClientFrame { Type = ClientFrameTypes.Heartbeat });

    public int Index { get; }
    public UserEntry User { get; }
    public int ReceiveBufferSize { get; init; } = 2048;
    public bool AckMessages { get; init; } = true;
    public int MaxReconnects { get; set; }

    /// <summary>Per chat seen-seq bits, touched only by this connection's receive loop.</summary>
    public Dictionary<string, SeqBits> Chats { get; } = new(StringComparer.Ordinal);
    public long DeliveredThisRun;   // scenario counter (catch-up)
    public long DoneAtTicks;        // scenario marker (catch-up)
    public int HeartbeatIntervalMs { get; private set; } = 30_000;
    public bool IsOpen => Volatile.Read(ref _open);

    private readonly RunStats _stats;
    private readonly IFrameSink _sink;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private ClientWebSocket? _ws;
    private bool _open;
    private bool _closing;
    private long _heartbeatSent;
    private TaskCompletionSource<string?>? _ready;
    private Task? _loop;
    private Connector? _connector;

    public Conn(int index, UserEntry user, RunStats stats, IFrameSink sink)
    {
        Index = index;
        User = user;
        _stats = stats;
        _sink = sink;
    }

    /// <summary>Connects and waits for "ready". Returns null on success, else a reason.</summary>
    public async Task<string?> ConnectAsync(Connector connector, TimeSpan timeout, CancellationToken ct)
    {
        _connector = connector;
        _closing = false;
        var ws = new ClientWebSocket();
        ws.Options.KeepAliveInterval = TimeSpan.Zero; // the app-level heartbeat keeps the session alive, as the protocol asks
        var uri = new Uri(connector.WsBase, "?token=" + Uri.EscapeDataString(User.Token));
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        long t0 = Stopwatch.GetTimestamp();
        try
        {
            await ws.ConnectAsync(uri, connector.Invoker, cts.Token);
        }
        catch (Exception e) when (e is WebSocketException or HttpRequestException or OperationCanceledException or IOException or SocketException)
        {
            ws.Dispose();
            Interlocked.Increment(ref _stats.ConnectFailures);
            return ct.IsCancellationRequested ? "cancelled" : "connect: " + Flatten(e);
        }
        _ready = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _ws = ws;
        Volatile.Write(ref _open, true);
        _loop = Task.Run(() => ReceiveLoopAsync(ws), CancellationToken.None);
        string? r;
        try { r = await _ready.Task.WaitAsync(cts.Token); }
        catch (OperationCanceledException) { r = "no ready frame within " + timeout.TotalSeconds + " s"; }
        if (r is not null)
        {
            Interlocked.Increment(ref _stats.ConnectFailures);
            ws.Abort();
            return r;
        }
        Hist.Record(_stats.ConnectLatency, Hist.ElapsedUs(t0, Stopwatch.GetTimestamp()));
        return null;
    }

    private static string Flatten(Exception e)
    {
        var m = e.Message;
        for (var i = e.InnerException; i is not null; i = i.InnerException) m += " / " + i.Message;
        return m;
    }

    /// <summary>Sends one text frame; concurrent callers are serialized (ClientWebSocket allows one send at a time).</summary>
    public async ValueTask<bool> SendAsync(ReadOnlyMemory<byte> frame)
    {
        var ws = _ws;
        if (ws is null || !Volatile.Read(ref _open)) return false;
        await _sendLock.WaitAsync();
        try
        {
            if (ws.State != WebSocketState.Open) return false;
            await ws.SendAsync(frame, WebSocketMessageType.Text, true, CancellationToken.None);
            return true;
        }
        catch (Exception e) when (e is WebSocketException or ObjectDisposedException or OperationCanceledException or IOException or InvalidOperationException)
        {
            return false;
        }
        finally
        {
            _sendLock.Release();
        }
    }

    public ValueTask<bool> HeartbeatAsync()
    {
        Volatile.Write(ref _heartbeatSent, Stopwatch.GetTimestamp());
        return SendAsync(HeartbeatFrame);
    }

    /// <summary>Polite close (close frame, bounded wait), then abort.</summary>
    public async Task CloseAsync(TimeSpan timeout)
    {
        _closing = true;
        var ws = _ws;
        if (ws is null) return;
        try
        {
            using var cts = new CancellationTokenSource(timeout);
            await _sendLock.WaitAsync(cts.Token);
            try
            {
                if (ws.State == WebSocketState.Open || ws.State == WebSocketState.CloseReceived)
                    await ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bench done", cts.Token);
            }
            finally { _sendLock.Release(); }
            if (_loop is not null) await _loop.WaitAsync(cts.Token);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException or TimeoutException)
        {
        }
        finally
        {
            Volatile.Write(ref _open, false);
            ws.Abort();
            ws.Dispose();
        }
    }

    /// <summary>Drop the TCP connection without a close handshake (a phone losing signal).</summary>
    public void Abort()
    {
        _closing = true;
        Volatile.Write(ref _open, false);
        _ws?.Abort();
        _ws?.Dispose();
    }

    private async Task ReceiveLoopAsync(ClientWebSocket ws)
    {
        byte[] buf = new byte[ReceiveBufferSize];
        int len = 0;
        string reason = "ended";
        try
        {
            for (long frames = 0; frames < long.MaxValue; frames++)
            {
                if (len == buf.Length)
                {
                    if (buf.Length >= 4 * 1024 * 1024) { reason = "frame over 4 MiB"; break; }
                    Array.Resize(ref buf, buf.Length * 2);
                }
                var r = await ws.ReceiveAsync(buf.AsMemory(len), CancellationToken.None);
                if (r.MessageType == WebSocketMessageType.Close)
                {
                    reason = "close " + (int?)ws.CloseStatus + " " + ws.CloseStatusDescription;
                    if (!_closing) RunStats.Count(_stats.CloseCodes, ((int?)ws.CloseStatus)?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none");
                    try { await ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None); }
                    catch (Exception e) when (e is WebSocketException or ObjectDisposedException or IOException) { }
                    break;
                }
                len += r.Count;
                if (!r.EndOfMessage) continue;
                byte[]? reply = Handle(buf.AsSpan(0, len));
                len = 0;
                if (buf.Length > 65536) buf = new byte[ReceiveBufferSize];
                if (reply is not null) await SendAsync(reply);
            }
        }
        catch (Exception e) when (e is WebSocketException or ObjectDisposedException or IOException or OperationCanceledException)
        {
            reason = "error " + e.GetType().Name + ": " + e.Message;
            if (!_closing) RunStats.Count(_stats.CloseCodes, "abnormal");
        }
        catch (JsonException e)
        {
            reason = "bad json: " + e.Message;
            RunStats.Count(_stats.CloseCodes, "bad_json");
        }
        Volatile.Write(ref _open, false);
        _ready?.TrySetResult(reason);
        if (!_closing)
        {
            Interlocked.Increment(ref _stats.Disconnects);
            _sink.OnClosed(this, reason);
            _ = ReconnectAsync();
        }
    }

    private async Task ReconnectAsync()
    {
        if (_connector is null || MaxReconnects <= 0) return;
        MaxReconnects--;
        await Task.Delay(Random.Shared.Next(500, 1500));
        if (_closing) return;
        _ws?.Dispose();
        if (await ConnectAsync(_connector, TimeSpan.FromSeconds(30), CancellationToken.None) is null)
            Interlocked.Increment(ref _stats.Reconnects);
    }

    /// <summary>Parses one frame, lets the sink act on it, returns the ack to send back (if any).</summary>
    private byte[]? Handle(ReadOnlySpan<byte> json)
    {
        Interlocked.Increment(ref _stats.Received);
        ReadOnlySpan<byte> type = ServerFrameType.Of(json);
        if (type.SequenceEqual(ServerFrameType.NewMessage))
        {
            var m = JsonSerializer.Deserialize(json, ChatJson.Default.MessageFrame)!;
            _sink.OnNewMessage(this, m);
            return AckMessages && m.MessageId.Length > 0 ? AckFor(m.MessageId) : null;
        }
        if (type.SequenceEqual(ServerFrameType.Ack))
        {
            _sink.OnAck(this, JsonSerializer.Deserialize(json, ChatJson.Default.AckFrame)!);
            return null;
        }
        if (type.SequenceEqual(ServerFrameType.HeartbeatAck))
        {
            // only its arrival matters (the round trip); not parsed
            long sent = Volatile.Read(ref _heartbeatSent);
            if (sent != 0) Hist.Record(_stats.HeartbeatRtt, Hist.ElapsedUs(sent, Stopwatch.GetTimestamp()));
            return null;
        }
        if (_sink.WantsUpdates && type.SequenceEqual(ServerFrameType.MessageUpdated))
        {
            _sink.OnMessageUpdated(this, JsonSerializer.Deserialize(json, ChatJson.Default.MessageUpdatedFrame)!);
            return null;
        }
        if (type.SequenceEqual(ServerFrameType.Error))
        {
            var e = JsonSerializer.Deserialize(json, ChatJson.Default.ErrorFrame)!;
            RunStats.Count(_stats.ErrorCodes, string.IsNullOrEmpty(e.Code) ? "unknown" : e.Code);
            _sink.OnError(this, e);
            return null;
        }
        if (type.SequenceEqual(ServerFrameType.Ready))
        {
            var r = JsonSerializer.Deserialize(json, ChatJson.Default.ReadyFrame)!;
            if (r.HeartbeatIntervalMs > 0) HeartbeatIntervalMs = r.HeartbeatIntervalMs;
            _ready?.TrySetResult(null);
            return null;
        }
        RunStats.Count(_stats.FrameTypes, ServerFrameType.Name(type));
        return null;
    }

    private static byte[] AckFor(string messageId) => Frames.Encode(new ClientFrame { Type = ClientFrameTypes.Ack, MessageId = messageId });

    /// <summary>A new_message frame whose client_msg_id is the tag and whose content is the tag padded to <paramref name="contentBytes"/>.</summary>
    public static byte[] NewMessage(string chatId, string tag, int contentBytes) =>
        Frames.Encode(new ClientFrame { Type = ClientFrameTypes.NewMessage, ChatId = chatId, ClientMsgId = tag, Content = Padded(tag, contentBytes) });

    /// <summary>An edit_message frame: the new content is the tag padded to <paramref name="contentBytes"/>; the tag is also its request_id.</summary>
    public static byte[] EditMessage(string chatId, string messageId, string tag, int contentBytes) =>
        Frames.Encode(new ClientFrame { Type = ClientFrameTypes.EditMessage, ChatId = chatId, MessageId = messageId, Content = Padded(tag, contentBytes), RequestId = tag });

    /// <summary>A react or unreact frame; the tag is its request_id (echoed only in an error frame).</summary>
    public static byte[] React(string chatId, string messageId, string emoji, bool add, string tag) =>
        Frames.Encode(new ClientFrame { Type = add ? ClientFrameTypes.React : ClientFrameTypes.Unreact, ChatId = chatId, MessageId = messageId, Emoji = emoji, RequestId = tag });

    private static string Padded(string tag, int contentBytes)
    {
        int pad = Math.Max(0, contentBytes - tag.Length - 1);
        return pad == 0 ? tag : string.Create(tag.Length + 1 + pad, tag, static (span, t) =>
        {
            t.CopyTo(span);
            span[t.Length] = ' ';
            span[(t.Length + 1)..].Fill('x');
        });
    }

    public static byte[] PresenceSubscribe(List<string> userIds) =>
        Frames.Encode(new ClientFrame { Type = ClientFrameTypes.PresenceSubscribe, UserIds = userIds });
}

/// <summary>
/// Which server frame a received text is, without parsing it whole: every server frame carries its <c>type</c> as
/// the first property (ServerFrames.cs), so one token tells the receive loop which Chat.Protocol record to read —
/// and frames the tool only counts (receipts, presence) are never deserialized.
/// </summary>
public static class ServerFrameType
{
    // The names come from the records themselves, so a rename in Chat.Protocol follows here.
    public static readonly byte[] NewMessage = Utf8(new MessageFrame("", "", 0, "", "", 0, "", null).Type);
    public static readonly byte[] Ack = Utf8(new AckFrame("", "", "", 0, 0).Type);
    public static readonly byte[] Error = Utf8(new ErrorFrame("", "").Type);
    public static readonly byte[] Ready = Utf8(new ReadyFrame("", "", 0, 0).Type);
    public static readonly byte[] HeartbeatAck = Utf8(new HeartbeatAckFrame(0).Type);
    public static readonly byte[] MessageUpdated = Utf8(new MessageUpdatedFrame("", 0, "", "", new MessageObject("", "", 0, "", "", 0, "", null)).Type);
    public static readonly string PresenceUpdate = new PresenceFrame("", "", 0).Type;

    // counted by name in every run: interned so that counting allocates nothing
    private static readonly string[] Counted =
    [
        new DeliveryReceiptFrame("", "", 0, "").Type, new ReadReceiptFrame("", "", "", 0, "", 0).Type,
        new SyncReadFrame("", "", 0).Type, PresenceUpdate, new GroupUpdateFrame("", "", [], "").Type,
        ClientFrameTypes.TypingStart, ClientFrameTypes.TypingStop, // typing events reuse the client's frame names
    ];
    private static readonly byte[][] CountedUtf8 = Counted.Select(Utf8).ToArray();

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    /// <summary>The first property's string value (the type), or empty when the frame does not start that way.</summary>
    public static ReadOnlySpan<byte> Of(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return default;
        if (!reader.Read() || reader.TokenType != JsonTokenType.PropertyName) return default;
        if (!reader.Read() || reader.TokenType != JsonTokenType.String) return default;
        if (reader.ValueIsEscaped) return Utf8(reader.GetString()!);
        return json.Slice((int)reader.TokenStartIndex + 1, reader.ValueSpan.Length);
    }

    public static string Name(ReadOnlySpan<byte> type)
    {
        for (int i = 0; i < CountedUtf8.Length; i++)
            if (type.SequenceEqual(CountedUtf8[i])) return Counted[i];
        return type.Length == 0 ? "untyped" : Encoding.UTF8.GetString(type);
    }
}
