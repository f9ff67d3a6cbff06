using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using Chat.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Chat.LoadTest;

/// <summary>
/// A bare WebSocket relay speaking the same wire protocol subset the bench uses (register/login, groups,
/// ready/new_message/ack/heartbeat), through the same Chat.Protocol records and ChatJson as the server, with NO persistence, NO password hashing and no receipts: the
/// "bare Kestrel relay" baseline of issue 7, and a way to test the tool itself without the real server.
/// </summary>
public static class Relay
{
    private sealed record RUser(string UserId, string Username, string Token);

    private sealed class RConn(WebSocket ws)
    {
        public WebSocket Ws { get; } = ws;
        public Channel<byte[]> Out { get; } = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(4096) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });
    }

    public static async Task RunAsync(Options o)
    {
        var uri = Loopback.Check(o.Str("urls", "http://127.0.0.1:8090"));
        o.EnsureAllUsed();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(uri.ToString().TrimEnd('/'));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });

        var byToken = new ConcurrentDictionary<string, RUser>(StringComparer.Ordinal);
        var byName = new ConcurrentDictionary<string, RUser>(StringComparer.Ordinal);
        var groups = new ConcurrentDictionary<string, string[]>(StringComparer.Ordinal);
        var online = new ConcurrentDictionary<string, ConcurrentDictionary<RConn, byte>>(StringComparer.Ordinal);
        var seqs = new ConcurrentDictionary<string, long[]>(StringComparer.Ordinal);

        static string NewId() => Guid.NewGuid().ToString("N")[..16];
        static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var json = ChatJson.Default;
        IResult AuthReply(RUser u, int status) =>
            Results.Json(new AuthResponse(u.UserId, u.Username, u.Username, u.UserId, u.Token), json.AuthResponse, statusCode: status);

        app.MapGet("/healthz", () => "Healthy");
        app.MapPost("/api/auth/register", async (HttpContext ctx) =>
        {
            var r = await JsonSerializer.DeserializeAsync(ctx.Request.Body, json.RegisterRequest);
            string name = r?.Username ?? "";
            var u = new RUser(NewId(), name, NewId() + NewId());
            if (!byName.TryAdd(name, u)) return Results.StatusCode(409);
            byToken[u.Token] = u;
            return AuthReply(u, 201);
        });
        app.MapPost("/api/auth/login", async (HttpContext ctx) =>
        {
            var r = await JsonSerializer.DeserializeAsync(ctx.Request.Body, json.LoginRequest);
            return byName.TryGetValue(r?.Username ?? "", out var u) ? AuthReply(u, 200) : Results.StatusCode(401);
        });
        RUser? Auth(HttpContext ctx)
        {
            string? h = ctx.Request.Headers.Authorization;
            string? t = h is not null && h.StartsWith("Bearer ", StringComparison.Ordinal) ? h[7..] : ctx.Request.Query["token"];
            return t is not null && byToken.TryGetValue(t, out var u) ? u : null;
        }
        app.MapGet("/api/users/me", (HttpContext ctx) =>
            Auth(ctx) is { } u ? Results.Json(new MeDto(u.UserId, u.Username, u.Username, 0, new PrivacySettingsDto(true, true)), json.MeDto) : Results.StatusCode(401));
        app.MapPost("/api/groups", async (HttpContext ctx) =>
        {
            if (Auth(ctx) is not { } u) return Results.StatusCode(401);
            var r = await JsonSerializer.DeserializeAsync(ctx.Request.Body, json.CreateGroupRequest);
            var members = (r?.Members ?? []).Prepend(u.UserId).Distinct(StringComparer.Ordinal).ToArray();
            string gid = NewId();
            groups[gid] = members;
            return Results.Json(new GroupDto(gid, r?.Name ?? "", r?.Description ?? "", u.UserId, Now(), members, [u.UserId]), json.GroupDto, statusCode: 201);
        });
        app.Map("/ws", async (HttpContext ctx) =>
        {
            if (!ctx.WebSockets.IsWebSocketRequest) { ctx.Response.StatusCode = 400; return; }
            var user = Auth(ctx);
            using var ws = await ctx.WebSockets.AcceptWebSocketAsync();
            if (user is null) { await ws.CloseAsync((WebSocketCloseStatus)4001, "unauthorized", CancellationToken.None); return; }
            var conn = new RConn(ws);
            var mine = online.GetOrAdd(user.UserId, _ => new());
            mine[conn] = 0;
            var writer = Task.Run(async () =>
            {
                try
                {
                    await foreach (var frame in conn.Out.Reader.ReadAllAsync())
                        await ws.SendAsync(frame, WebSocketMessageType.Text, true, CancellationToken.None);
                }
                catch (Exception e) when (e is WebSocketException or IOException or ObjectDisposedException) { }
            });
            conn.Out.Writer.TryWrite(Frames.Encode(new ReadyFrame(user.UserId, user.UserId, Now(), 30_000)));
            byte[] buf = new byte[8192];
            int len = 0;
            try
            {
                for (long i = 0; i < long.MaxValue; i++)
                {
                    if (len == buf.Length) Array.Resize(ref buf, buf.Length * 2);
                    var r = await ws.ReceiveAsync(buf.AsMemory(len), CancellationToken.None);
                    if (r.MessageType == WebSocketMessageType.Close) break;
                    len += r.Count;
                    if (!r.EndOfMessage) continue;
                    HandleFrame(user, conn, buf.AsSpan(0, len));
                    len = 0;
                }
            }
            catch (Exception e) when (e is WebSocketException or IOException) { }
            mine.TryRemove(conn, out _);
            conn.Out.Writer.TryComplete();
            await writer;
            if (ws.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                try { await ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None); }
                catch (Exception e) when (e is WebSocketException or IOException) { }
            }
        });

        void HandleFrame(RUser user, RConn conn, ReadOnlySpan<byte> text)
        {
            ClientFrame? f;
            try { f = JsonSerializer.Deserialize(text, json.ClientFrame); }
            catch (JsonException) { return; }
            if (f is null) return;
            long now = Now();
            if (f.Type == ClientFrameTypes.Heartbeat) { conn.Out.Writer.TryWrite(Frames.Encode(new HeartbeatAckFrame(now))); return; }
            if (f.Type != ClientFrameTypes.NewMessage || f.ChatId is not { } chat || f.ClientMsgId is not { } cmid) return;
            string[] members = chat.Contains('_', StringComparison.Ordinal) ? chat.Split('_') : groups.TryGetValue(chat, out var g) ? g : [];
            long seq = Interlocked.Increment(ref seqs.GetOrAdd(chat, _ => new long[1])[0]);
            string mid = Guid.CreateVersion7().ToString();
            conn.Out.Writer.TryWrite(Frames.Encode(new AckFrame(cmid, mid, chat, seq, now)));
            byte[] ev = Frames.Encode(new MessageFrame(mid, chat, seq, user.UserId, f.Content ?? "", now, cmid, null));
            foreach (var m in members)
            {
                if (!online.TryGetValue(m, out var devs)) continue;
                foreach (var d in devs.Keys)
                    if (d != conn && !d.Out.Writer.TryWrite(ev)) d.Ws.Abort();
            }
        }

        Console.WriteLine($"bare relay (no persistence, no auth hashing) on {uri}");
        await app.RunAsync();
    }
}
