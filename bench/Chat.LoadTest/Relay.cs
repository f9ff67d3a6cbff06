using System.Buffers;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Chat.LoadTest;

/// <summary>
/// A bare WebSocket relay speaking the same wire protocol subset the bench uses (register/login, groups,
/// ready/new_message/ack/heartbeat) with NO persistence, NO password hashing and no receipts: the
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

    private sealed record Reg(string? Username, string? Password);
    private sealed record GroupReq(string? Name, List<string>? Members);

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
        byte[] AuthJson(RUser u) => JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string>
        { ["user_id"] = u.UserId, ["username"] = u.Username, ["display_name"] = u.Username, ["device_id"] = u.UserId, ["token"] = u.Token });

        app.MapGet("/healthz", () => "Healthy");
        app.MapPost("/api/auth/register", async (HttpContext ctx) =>
        {
            var r = await JsonSerializer.DeserializeAsync<JsonElement>(ctx.Request.Body);
            string name = r.GetProperty("username").GetString()!;
            var u = new RUser(NewId(), name, NewId() + NewId());
            if (!byName.TryAdd(name, u)) { ctx.Response.StatusCode = 409; return; }
            byToken[u.Token] = u;
            ctx.Response.StatusCode = 201;
            ctx.Response.ContentType = "application/json";
            await ctx.Response.Body.WriteAsync(AuthJson(u));
        });
        app.MapPost("/api/auth/login", async (HttpContext ctx) =>
        {
            var r = await JsonSerializer.DeserializeAsync<JsonElement>(ctx.Request.Body);
            if (!byName.TryGetValue(r.GetProperty("username").GetString()!, out var u)) { ctx.Response.StatusCode = 401; return; }
            ctx.Response.ContentType = "application/json";
            await ctx.Response.Body.WriteAsync(AuthJson(u));
        });
        RUser? Auth(HttpContext ctx)
        {
            string? h = ctx.Request.Headers.Authorization;
            string? t = h is not null && h.StartsWith("Bearer ", StringComparison.Ordinal) ? h[7..] : ctx.Request.Query["token"];
            return t is not null && byToken.TryGetValue(t, out var u) ? u : null;
        }
        app.MapGet("/api/users/me", (HttpContext ctx) => Auth(ctx) is { } u ? Results.Json(new Dictionary<string, string> { ["user_id"] = u.UserId, ["username"] = u.Username }) : Results.StatusCode(401));
        app.MapPost("/api/groups", async (HttpContext ctx) =>
        {
            if (Auth(ctx) is not { } u) { ctx.Response.StatusCode = 401; return; }
            var r = await JsonSerializer.DeserializeAsync<JsonElement>(ctx.Request.Body);
            var members = r.GetProperty("members").EnumerateArray().Select(e => e.GetString()!).Prepend(u.UserId).Distinct().ToArray();
            string gid = NewId();
            groups[gid] = members;
            ctx.Response.StatusCode = 201;
            ctx.Response.ContentType = "application/json";
            await JsonSerializer.SerializeAsync(ctx.Response.Body, new Dictionary<string, object>
            { ["group_id"] = gid, ["name"] = r.GetProperty("name").GetString() ?? "", ["members"] = members, ["admins"] = new[] { u.UserId } });
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
            conn.Out.Writer.TryWrite(Encoding.UTF8.GetBytes($"{{\"type\":\"ready\",\"user_id\":\"{user.UserId}\",\"device_id\":\"{user.UserId}\",\"server_time\":{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()},\"heartbeat_interval_ms\":30000}}"));
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

        void HandleFrame(RUser user, RConn conn, ReadOnlySpan<byte> json)
        {
            var reader = new Utf8JsonReader(json);
            string? type = null, chat = null, cmid = null, content = null;
            if (!reader.Read()) return;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                string name = reader.GetString()!;
                reader.Read();
                if (reader.TokenType != JsonTokenType.String) { reader.Skip(); continue; }
                switch (name)
                {
                    case "type": type = reader.GetString(); break;
                    case "chat_id": chat = reader.GetString(); break;
                    case "client_msg_id": cmid = reader.GetString(); break;
                    case "content": content = reader.GetString(); break;
                }
            }
            long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            if (type == "heartbeat") { conn.Out.Writer.TryWrite(Encoding.UTF8.GetBytes($"{{\"type\":\"heartbeat_ack\",\"server_time\":{now}}}")); return; }
            if (type != "new_message" || chat is null || cmid is null) return;
            string[] members = chat.Contains('_', StringComparison.Ordinal) ? chat.Split('_') : groups.TryGetValue(chat, out var g) ? g : [];
            long seq = Interlocked.Increment(ref seqs.GetOrAdd(chat, _ => new long[1])[0]);
            string mid = Guid.CreateVersion7().ToString();
            var w = new ArrayBufferWriter<byte>(256);
            using (var jw = new Utf8JsonWriter(w))
            {
                jw.WriteStartObject();
                jw.WriteString("type", "ack"); jw.WriteString("client_msg_id", cmid); jw.WriteString("message_id", mid);
                jw.WriteString("chat_id", chat); jw.WriteNumber("seq", seq); jw.WriteNumber("timestamp", now);
                jw.WriteEndObject();
            }
            conn.Out.Writer.TryWrite(w.WrittenSpan.ToArray());
            var w2 = new ArrayBufferWriter<byte>(256 + (content?.Length ?? 0));
            using (var jw = new Utf8JsonWriter(w2))
            {
                jw.WriteStartObject();
                jw.WriteString("type", "new_message"); jw.WriteString("message_id", mid); jw.WriteString("chat_id", chat);
                jw.WriteNumber("seq", seq); jw.WriteString("from", user.UserId); jw.WriteString("content", content);
                jw.WriteNumber("timestamp", now); jw.WriteString("client_msg_id", cmid);
                jw.WriteEndObject();
            }
            byte[] ev = w2.WrittenSpan.ToArray();
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
