using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using Chat.Core;
using Chat.Core.Auth;
using Chat.Protocol;
using Microsoft.Extensions.Options;

namespace Chat.Server.Connections;

/// <summary>
/// First-frame authentication (docs/api.md "Authenticating with a first frame"): a socket opened without a token sends
/// <c>{"type":"auth","token":"…"}</c> as its first message, so the token never appears in a URL that a proxy, an
/// access log or the browser's history could keep. Sockets still waiting for that frame are counted per node and
/// capped (<c>Chat:Gateway:MaxPendingAuthSockets</c>); they are in no hub, so they are nobody's presence.
/// </summary>
internal sealed partial class AuthFrameGate(IOptions<ChatOptions> options, AuthService auth, ILogger<AuthFrameGate> log)
{
    /// <summary>A type and a token: a longer first message is not an auth frame (closed with 1009).</summary>
    public const int MaxFrameBytes = 4096;

    private static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan RefusalLogInterval = TimeSpan.FromMinutes(1);
    private int _pending;
    private long _lastRefusalLog = long.MinValue;

    /// <summary>Sockets on this node waiting for their auth frame.</summary>
    public int Pending => Volatile.Read(ref _pending);

    /// <summary>A place among the pending sockets, or null when they are at the cap (the upgrade is then refused).</summary>
    public Lease? TryEnter()
    {
        int limit = options.Value.Gateway.MaxPendingAuthSockets;
        if (Interlocked.Increment(ref _pending) <= limit) return new Lease(this);
        Interlocked.Decrement(ref _pending);
        // A flood refuses thousands a second: one line a minute tells the operator without filling the disk.
        long now = Environment.TickCount64;
        long last = Interlocked.Read(ref _lastRefusalLog);
        if (now - last >= (long)RefusalLogInterval.TotalMilliseconds && Interlocked.CompareExchange(ref _lastRefusalLog, now, last) == last)
            LogPendingFull(log, limit);
        return null;
    }

    /// <summary>
    /// Waits (at most <c>Chat:Gateway:AuthTimeoutSeconds</c>) for the first message and authenticates its token.
    /// Returns the principal, or null and the close code: 1009 for a message above <see cref="MaxFrameBytes"/>,
    /// 1001 when the node stops meanwhile, 4001 for anything else (wrong frame, bad token, silence). After a
    /// timeout the socket is already closed here; otherwise the caller closes it with the code.
    /// </summary>
    public async Task<(Principal? Principal, int CloseCode)> AuthenticateAsync(WebSocket ws, CancellationToken stopping)
    {
        var o = options.Value;
        // Cancelling a pending receive aborts the socket, and then no close code reaches the peer: the read is not
        // cancelled but waited for with a timeout, and on timeout the close frame is sent beside it.
        var reading = ReadTokenAsync(ws, o.Limits.MaxFragmentsPerMessage);
        string? token;
        int code;
        try
        {
            (token, code) = await reading.WaitAsync(TimeSpan.FromSeconds(o.Gateway.AuthTimeoutSeconds), stopping);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            code = stopping.IsCancellationRequested ? CloseCodes.ShuttingDown : CloseCodes.Unauthorized;
            await CloseWhileReadingAsync(ws, code, reading);
            return (null, code);
        }
        if (token is null) return (null, code);
        try
        {
            return (await auth.AuthenticateAsync(token, stopping), CloseCodes.Unauthorized);
        }
        catch (OperationCanceledException)
        {
            return (null, CloseCodes.ShuttingDown);
        }
    }

    public static string CloseReason(int code) => code switch
    {
        CloseCodes.TooBig => "auth frame too big",
        CloseCodes.ShuttingDown => "server shutting down",
        _ => "unauthorized",
    };

    /// <summary>Reads the first message: its token, or null and the close code. Never throws.</summary>
    private static async Task<(string? Token, int CloseCode)> ReadTokenAsync(WebSocket ws, int maxFragments)
    {
        byte[]? buffer = null;
        try
        {
            // As in the receive pump: no buffer is held while the socket is silent.
            var result = await ws.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
            if (result.MessageType == WebSocketMessageType.Close) return (null, CloseCodes.Unauthorized);
            buffer = ArrayPool<byte>.Shared.Rent(MaxFrameBytes + 1);
            int length = 0;
            int reads = 0;
            while (!result.EndOfMessage)
            {
                if (++reads > maxFragments) return (null, CloseCodes.TooBig);
                result = await ws.ReceiveAsync(buffer.AsMemory(length, MaxFrameBytes + 1 - length), CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close) return (null, CloseCodes.Unauthorized);
                length += result.Count;
                if (length > MaxFrameBytes) return (null, CloseCodes.TooBig);
            }
            return result.MessageType == WebSocketMessageType.Text && ReadToken(buffer.AsMemory(0, length)) is { } token
                ? (token, 0)
                : (null, CloseCodes.Unauthorized);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            return (null, CloseCodes.Unauthorized); // the peer is gone or the socket was aborted
        }
        finally
        {
            if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Sends the close frame while the first read is still pending; the peer's answering close ends that read.</summary>
    private static async Task CloseWhileReadingAsync(WebSocket ws, int code, Task reading)
    {
        using var grace = new CancellationTokenSource(CloseGrace);
        try
        {
            await ws.CloseOutputAsync((WebSocketCloseStatus)code, CloseReason(code), grace.Token);
            await reading.WaitAsync(grace.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException)
        {
        }
        if (!reading.IsCompleted) ws.Abort();
        await reading;
    }

    /// <summary>The token of an <c>{"type":"auth","token":"…"}</c> object; null for anything else.</summary>
    private static string? ReadToken(ReadOnlyMemory<byte> json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || !type.ValueEquals("auth")
                || !root.TryGetProperty("token", out var token) || token.ValueKind != JsonValueKind.String)
                return null;
            return token.GetString() is { Length: > 0 } s ? s : null;
        }
        catch (JsonException)
        {
            return null; // not JSON, or not UTF-8
        }
    }

    /// <summary>One pending socket; disposing it (idempotent) frees its place.</summary>
    public sealed class Lease(AuthFrameGate gate) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) Interlocked.Decrement(ref gate._pending);
        }
    }

    [LoggerMessage(2008, LogLevel.Warning, "{Limit} sockets are already waiting for their auth frame on this node (Chat:Gateway:MaxPendingAuthSockets); refusing more upgrades without a token with 503")]
    private static partial void LogPendingFull(ILogger logger, int limit);
}
