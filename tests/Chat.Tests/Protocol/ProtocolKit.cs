using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Chat.Client;
using Chat.Tests.Infrastructure;

namespace Chat.Tests.Protocol;

/// <summary>
/// Small helpers for protocol tests written from PROTOCOL.md alone: raw REST calls that expose status + body,
/// error assertions, direct chat ids computed the way the contract defines them, and socket fences.
/// </summary>
internal static class ProtocolKit
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(20); // generous: the suite shares 2 cores with everything else

    /// <summary>The contract's direct chat id: both user ids sorted ordinally, joined by '_'.</summary>
    public static string DirectId(string a, string b) => string.CompareOrdinal(a, b) <= 0 ? $"{a}_{b}" : $"{b}_{a}";

    public sealed record Reply(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)
    {
        public string? Code => Body.ValueKind == JsonValueKind.Object ? Body.Str("code") : null;
    }

    /// <summary>Any REST call, returning status and parsed body (an empty body parses as JSON null).</summary>
    public static async Task<Reply> CallAsync(this TestServer server, HttpMethod method, string path, object? body = null, string? token = null)
    {
        var http = server.Api().Http;
        using var req = new HttpRequestMessage(method, path);
        if (token is not null) req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (body is not null)
        {
            string text = body as string ?? JsonSerializer.Serialize(body);
            req.Content = new StringContent(text, Encoding.UTF8, "application/json");
        }
        using var cts = new CancellationTokenSource(Wait);
        var res = await http.SendAsync(req, cts.Token);
        string raw = await res.Content.ReadAsStringAsync(cts.Token);
        var parsed = raw.Length == 0 ? default : JsonDocument.Parse(raw).RootElement.Clone();
        return new Reply(res.StatusCode, parsed, res);
    }

    public static Task<Reply> GetAsync(this TestServer server, string path, string? token) => server.CallAsync(HttpMethod.Get, path, null, token);
    public static Task<Reply> PostAsync(this TestServer server, string path, object? body, string? token) => server.CallAsync(HttpMethod.Post, path, body ?? "{}", token);

    /// <summary>Asserts a contract error body: the status, <c>{"code","error"}</c> with a non-empty human sentence.</summary>
    public static void AssertError(this Reply reply, HttpStatusCode status, string code)
    {
        Assert.True(reply.Status == status, $"expected {(int)status} {code}, got {(int)reply.Status}: {reply.Body}");
        Assert.Equal(code, reply.Body.Str("code"));
        Assert.False(string.IsNullOrWhiteSpace(reply.Body.Str("error")), "error body needs a human readable 'error'");
    }

    public static void AssertStatus(this Reply reply, HttpStatusCode status) =>
        Assert.True(reply.Status == status, $"expected {(int)status}, got {(int)reply.Status}: {reply.Body}");

    /// <summary>
    /// A fence: heartbeat → heartbeat_ack. The server handles a socket's frames in order and queues replies in order,
    /// so everything it queued for this socket before handling the heartbeat arrives before the ack.
    /// Returns every frame received so far and not yet consumed (including any that came after the ack).
    /// </summary>
    public static async Task<List<JsonElement>> FenceAsync(this ChatSocket socket)
    {
        await socket.SendAsync(new JsonObject { ["type"] = "heartbeat" });
        await socket.NextAsync("heartbeat_ack", Wait);
        return socket.Drain();
    }

    /// <summary>The next error frame; asserts its code (and the echoed client_msg_id when given).</summary>
    public static async Task<JsonElement> ExpectErrorAsync(this ChatSocket socket, string code, string? clientMsgId = null)
    {
        var error = await socket.NextAsync("error", Wait);
        Assert.True(code == error.Str("code"), $"expected error {code}, got {error}");
        Assert.False(string.IsNullOrWhiteSpace(error.Str("error")));
        if (clientMsgId is not null) Assert.Equal(clientMsgId, error.Str("client_msg_id"));
        Assert.Equal(WebSocketStateOpen, socket.State);
        return error;
    }

    private const System.Net.WebSockets.WebSocketState WebSocketStateOpen = System.Net.WebSockets.WebSocketState.Open;

    /// <summary>Waits for the server to close the socket and returns the close code.</summary>
    public static async Task<int?> ClosedWithAsync(this ChatSocket socket, TimeSpan? timeout = null)
    {
        await socket.Closed.WaitAsync(timeout ?? Wait);
        return socket.CloseCode;
    }

    /// <summary>Polls a condition (for state the contract allows to settle within 250 ms) with a bounded wait.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Wait);
        while (true)
        {
            if (await condition()) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Not reached in time: {what}");
            await Task.Delay(50);
        }
    }

    public static Task SendFrameAsync(this ChatSocket socket, object frame) => socket.SendRawAsync(JsonSerializer.Serialize(frame));

    /// <summary>Asserts that none of the frames is of these types, listing them when one is.</summary>
    public static void AssertNone(this IEnumerable<JsonElement> frames, params string[] types)
    {
        var hits = frames.Where(f => types.Contains(f.Type())).ToList();
        Assert.True(hits.Count == 0, $"unexpected frames: {string.Join(", ", hits)}");
    }

    public static IEnumerable<JsonElement> OfType(this IEnumerable<JsonElement> frames, string type) => frames.Where(f => f.Type() == type);

    public static long[] Seqs(this IEnumerable<JsonElement> frames) => frames.Select(f => f.Long("seq")).ToArray();
}
