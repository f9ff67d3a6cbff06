using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

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
    void OnNewMessage(Conn c, in Incoming f);
    void OnAck(Conn c, in Incoming f);
    void OnError(Conn c, in Incoming f);
    void OnClosed(Conn c, string reason) { }
}

public enum FrameKind { Other, Ready, NewMessage, Ack, Error, HeartbeatAck }

/// <summary>The fields of one received frame the bench cares about (spans point into the receive buffer).</summary>
public ref struct Incoming
{
    public FrameKind Kind;
    public ReadOnlySpan<byte> Type;
    public ReadOnlySpan<byte> MessageId;
    public ReadOnlySpan<byte> ChatId;
    public ReadOnlySpan<byte> From;
    public ReadOnlySpan<byte> Content;
    public ReadOnlySpan<byte> ClientMsgId;
    public ReadOnlySpan<byte> Code;
    public long Seq;
    public int HeartbeatIntervalMs;
}

/// <summary>One device socket: connect, receive loop (acks every new_message like a real client), serialized sends.</summary>
public sealed class Conn
{
    public static readonly byte[] HeartbeatFrame = "{\"type\":\"heartbeat\"}"u8.ToArray();

    public int Index { get; }
    public UserEntry User { get; }
    public byte[] UserIdUtf8 { get; }
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
        UserIdUtf8 = Encoding.UTF8.GetBytes(user.UserId);
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
        var f = new Incoming();
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
        byte[]? unescaped = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            ReadOnlySpan<byte> name = reader.ValueSpan;
            if (!reader.Read()) break;
            if (reader.TokenType == JsonTokenType.String)
            {
                ReadOnlySpan<byte> v = reader.ValueSpan;
                if (reader.ValueIsEscaped)
                {
                    unescaped = Encoding.UTF8.GetBytes(reader.GetString()!);
                    v = unescaped;
                }
                if (name.SequenceEqual("type"u8)) f.Type = v;
                else if (name.SequenceEqual("message_id"u8)) f.MessageId = v;
                else if (name.SequenceEqual("chat_id"u8)) f.ChatId = v;
                else if (name.SequenceEqual("from"u8)) f.From = v;
                else if (name.SequenceEqual("content"u8)) f.Content = v;
                else if (name.SequenceEqual("client_msg_id"u8)) f.ClientMsgId = v;
                else if (name.SequenceEqual("code"u8)) f.Code = v;
            }
            else if (reader.TokenType == JsonTokenType.Number)
            {
                if (name.SequenceEqual("seq"u8)) f.Seq = reader.GetInt64();
                else if (name.SequenceEqual("heartbeat_interval_ms"u8)) f.HeartbeatIntervalMs = reader.GetInt32();
            }
            else if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
            {
                reader.Skip();
            }
        }
        f.Kind = f.Type.SequenceEqual("new_message"u8) ? FrameKind.NewMessage
            : f.Type.SequenceEqual("ack"u8) ? FrameKind.Ack
            : f.Type.SequenceEqual("heartbeat_ack"u8) ? FrameKind.HeartbeatAck
            : f.Type.SequenceEqual("ready"u8) ? FrameKind.Ready
            : f.Type.SequenceEqual("error"u8) ? FrameKind.Error
            : FrameKind.Other;
        switch (f.Kind)
        {
            case FrameKind.NewMessage:
                _sink.OnNewMessage(this, f);
                return AckMessages && f.MessageId.Length > 0 ? AckFrame(f.MessageId) : null;
            case FrameKind.Ack:
                _sink.OnAck(this, f);
                return null;
            case FrameKind.Error:
                RunStats.Count(_stats.ErrorCodes, f.Code.Length > 0 ? Encoding.UTF8.GetString(f.Code) : "unknown");
                _sink.OnError(this, f);
                return null;
            case FrameKind.HeartbeatAck:
                long sent = Volatile.Read(ref _heartbeatSent);
                if (sent != 0) Hist.Record(_stats.HeartbeatRtt, Hist.ElapsedUs(sent, Stopwatch.GetTimestamp()));
                return null;
            case FrameKind.Ready:
                if (f.HeartbeatIntervalMs > 0) HeartbeatIntervalMs = f.HeartbeatIntervalMs;
                _ready?.TrySetResult(null);
                return null;
            default:
                RunStats.Count(_stats.FrameTypes, TypeName(f.Type));
                return null;
        }
    }

    private static string TypeName(ReadOnlySpan<byte> t) =>
        t.SequenceEqual("delivery_receipt"u8) ? "delivery_receipt"
        : t.SequenceEqual("read_receipt"u8) ? "read_receipt"
        : t.SequenceEqual("presence_update"u8) ? "presence_update"
        : t.SequenceEqual("group_update"u8) ? "group_update"
        : t.SequenceEqual("typing_start"u8) ? "typing_start"
        : t.SequenceEqual("typing_stop"u8) ? "typing_stop"
        : t.SequenceEqual("sync_read"u8) ? "sync_read"
        : t.Length == 0 ? "untyped" : Encoding.UTF8.GetString(t);

    private static byte[] AckFrame(ReadOnlySpan<byte> messageId)
    {
        ReadOnlySpan<byte> head = "{\"type\":\"ack\",\"message_id\":\""u8;
        ReadOnlySpan<byte> tail = "\"}"u8;
        bool plain = true;
        foreach (byte b in messageId) if (b < 0x20 || b == (byte)'"' || b == (byte)'\\' || b >= 0x80) { plain = false; break; }
        if (!plain)
        {
            var enc = JsonEncodedText.Encode(Encoding.UTF8.GetString(messageId));
            return Encoding.UTF8.GetBytes("{\"type\":\"ack\",\"message_id\":\"" + enc.ToString() + "\"}");
        }
        var a = new byte[head.Length + messageId.Length + tail.Length];
        head.CopyTo(a);
        messageId.CopyTo(a.AsSpan(head.Length));
        tail.CopyTo(a.AsSpan(head.Length + messageId.Length));
        return a;
    }

    /// <summary>{"type":"new_message","chat_id":…,"client_msg_id":tag,"content":tag + padding}</summary>
    public static byte[] MessageFrame(string chatId, string tag, int contentBytes)
    {
        int pad = Math.Max(0, contentBytes - tag.Length - 1);
        var sb = new StringBuilder(64 + chatId.Length + tag.Length * 2 + pad);
        sb.Append("{\"type\":\"new_message\",\"chat_id\":\"").Append(chatId)
          .Append("\",\"client_msg_id\":\"").Append(tag)
          .Append("\",\"content\":\"").Append(tag);
        if (pad > 0) sb.Append(' ').Append('x', pad);
        sb.Append("\"}");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }
}
