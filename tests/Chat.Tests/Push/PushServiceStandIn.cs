using System.Buffers.Binary;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Chat.Tests.Push;

/// <summary>A browser's subscription as the test makes it: its own P-256 key pair and auth secret (RFC 8291).</summary>
public sealed class TestSubscriber : IDisposable
{
    public TestSubscriber(string id, Uri endpoint)
    {
        Id = id;
        Endpoint = endpoint.ToString();
        var q = Key.ExportParameters(false).Q;
        PublicKey = [0x04, .. q.X!, .. q.Y!];
        RandomNumberGenerator.Fill(Auth);
    }

    public string Id { get; }
    public string Endpoint { get; }
    public ECDiffieHellman Key { get; } = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
    public byte[] PublicKey { get; }
    public byte[] Auth { get; } = new byte[16];
    public string P256dhB64 => Base64Url.EncodeToString(PublicKey);
    public string AuthB64 => Base64Url.EncodeToString(Auth);

    /// <summary>What the stand-in answers for this subscriber: a status, or hang (never answer).</summary>
    public int Status { get; set; } = 201;
    public bool Hang { get; set; }
    public string? RedirectTo { get; set; }

    public void Dispose() => Key.Dispose();
}

/// <summary>A push the stand-in accepted: signature checked, payload decrypted.</summary>
public sealed record ReceivedPush(string SubscriberId, string? Topic, string? Ttl, JsonElement Payload);

/// <summary>
/// Plays the browser vendor's push service on 127.0.0.1: checks each request's VAPID JWT (ES256, RFC 8292) against the
/// chat server's public key and decrypts the aes128gcm body (RFC 8291) with the subscriber's private key and auth secret.
/// The verification is written here from the RFCs with .NET's primitives, independently of the server's library.
/// </summary>
public sealed class PushServiceStandIn : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, TestSubscriber> _subscribers = new();

    private PushServiceStandIn(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }
    /// <summary>The chat server's VAPID public key (base64url); requests signed with any other key are refused.</summary>
    public string? ServerPublicKey { get; set; }
    public Channel<ReceivedPush> Received { get; } = Channel.CreateUnbounded<ReceivedPush>();
    /// <summary>Every request that failed verification (a test asserts this stays empty).</summary>
    public ConcurrentQueue<string> Rejected { get; } = new();
    /// <summary>Requests that reached the stand-in, per subscriber id (answered or not).</summary>
    public ConcurrentDictionary<string, int> Hits { get; } = new();

    public static async Task<PushServiceStandIn> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        PushServiceStandIn? self = null;
        app.MapPost("/push/{id}", (string id, HttpContext http) => self!.HandleAsync(id, http));
        await app.StartAsync();
        string address = app.Urls.First();
        self = new PushServiceStandIn(app, new Uri(address));
        return self;
    }

    public TestSubscriber NewSubscriber()
    {
        string id = Guid.NewGuid().ToString("N");
        var s = new TestSubscriber(id, new Uri(BaseAddress, "/push/" + id));
        _subscribers[id] = s;
        return s;
    }

    /// <summary>The next accepted push (fails the test after the timeout).</summary>
    public async Task<ReceivedPush> NextAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        try
        {
            return await Received.Reader.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException("No push arrived. Rejected: " + string.Join("; ", Rejected));
        }
    }

    /// <summary>Every push accepted so far, without waiting.</summary>
    public List<ReceivedPush> Drain()
    {
        var list = new List<ReceivedPush>();
        while (Received.Reader.TryRead(out var p)) list.Add(p);
        return list;
    }

    private async Task HandleAsync(string id, HttpContext http)
    {
        Hits.AddOrUpdate(id, 1, (_, n) => n + 1);
        if (!_subscribers.TryGetValue(id, out var sub))
        {
            http.Response.StatusCode = 404;
            return;
        }
        if (sub.Hang)
        {
            await Task.Delay(Timeout.Infinite, http.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
            return;
        }
        if (sub.RedirectTo is { } location)
        {
            http.Response.StatusCode = 307;
            http.Response.Headers.Location = location;
            return;
        }
        using var body = new MemoryStream();
        await http.Request.Body.CopyToAsync(body);
        try
        {
            VerifyVapid(http.Request, sub);
            if (http.Request.Headers.ContentEncoding.ToString() != "aes128gcm") throw new InvalidDataException("Content-Encoding is not aes128gcm");
            byte[] plain = Decrypt(body.ToArray(), sub);
            var payload = JsonDocument.Parse(plain).RootElement.Clone();
            http.Response.StatusCode = sub.Status;
            if (sub.Status == 201)
                await Received.Writer.WriteAsync(new ReceivedPush(id, http.Request.Headers["Topic"].FirstOrDefault(), http.Request.Headers["TTL"].FirstOrDefault(), payload));
        }
        catch (Exception ex) when (ex is InvalidDataException or CryptographicException or JsonException or FormatException)
        {
            Rejected.Enqueue(ex.Message);
            http.Response.StatusCode = 400;
        }
    }

    /// <summary>RFC 8292: <c>Authorization: vapid t=JWT, k=PUBLIC_KEY</c>; ES256 over "header.claims"; aud = the endpoint's origin.</summary>
    private void VerifyVapid(HttpRequest request, TestSubscriber sub)
    {
        string auth = request.Headers.Authorization.ToString();
        if (!auth.StartsWith("vapid ", StringComparison.Ordinal)) throw new InvalidDataException("no vapid Authorization: " + auth);
        var parts = auth["vapid ".Length..].Split(',', StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        string jwt = parts["t"], k = parts["k"];
        if (ServerPublicKey is null || k != ServerPublicKey) throw new InvalidDataException("k is not the server's VAPID public key");
        var segments = jwt.Split('.');
        if (segments.Length != 3) throw new InvalidDataException("JWT is not three segments");
        using var header = JsonDocument.Parse(Base64Url.DecodeFromChars(segments[0]));
        if (header.RootElement.GetProperty("alg").GetString() != "ES256") throw new InvalidDataException("alg is not ES256");

        byte[] point = Base64Url.DecodeFromChars(ServerPublicKey);
        using var ec = ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = new ECPoint { X = point[1..33], Y = point[33..] } });
        if (!ec.VerifyData(Encoding.ASCII.GetBytes(segments[0] + "." + segments[1]), Base64Url.DecodeFromChars(segments[2]), HashAlgorithmName.SHA256))
            throw new InvalidDataException("VAPID JWT signature does not verify");

        using var claims = JsonDocument.Parse(Base64Url.DecodeFromChars(segments[1]));
        var endpoint = new Uri(sub.Endpoint);
        string audience = endpoint.GetLeftPart(UriPartial.Authority);
        if (claims.RootElement.GetProperty("aud").GetString() != audience) throw new InvalidDataException($"aud {claims.RootElement.GetProperty("aud")} is not the push service's origin {audience}");
        long exp = claims.RootElement.GetProperty("exp").GetInt64(), now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        if (exp <= now || exp > now + 24 * 3600) throw new InvalidDataException("exp is not within 24 h");
        if (!claims.RootElement.TryGetProperty("sub", out var subject) || subject.GetString() is not { Length: > 0 })
            throw new InvalidDataException("no sub claim");
    }

    /// <summary>RFC 8291 §3–4 with RFC 8188 aes128gcm framing, one record.</summary>
    private static byte[] Decrypt(byte[] body, TestSubscriber sub)
    {
        if (body.Length < 21 + 65 + 17) throw new InvalidDataException("body too short for aes128gcm");
        byte[] salt = body[..16];
        uint rs = BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(16, 4));
        int idLen = body[20];
        if (idLen != 65) throw new InvalidDataException("keyid is not an uncompressed P-256 key");
        byte[] asPublic = body[21..(21 + idLen)];
        byte[] record = body[(21 + idLen)..];
        if (record.Length > rs) throw new InvalidDataException("more than one record");

        using var sender = ECDiffieHellman.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = asPublic[1..33], Y = asPublic[33..] },
        });
        byte[] ecdhSecret = sub.Key.DeriveRawSecretAgreement(sender.PublicKey);
        byte[] prkKey = HKDF.Extract(HashAlgorithmName.SHA256, ecdhSecret, sub.Auth);
        byte[] keyInfo = [.. "WebPush: info\0"u8, .. sub.PublicKey, .. asPublic];
        byte[] ikm = HKDF.Expand(HashAlgorithmName.SHA256, prkKey, 32, keyInfo);
        byte[] prk = HKDF.Extract(HashAlgorithmName.SHA256, ikm, salt);
        byte[] cek = HKDF.Expand(HashAlgorithmName.SHA256, prk, 16, "Content-Encoding: aes128gcm\0"u8.ToArray());
        byte[] nonce = HKDF.Expand(HashAlgorithmName.SHA256, prk, 12, "Content-Encoding: nonce\0"u8.ToArray());

        byte[] plain = new byte[record.Length - 16];
        using (var aes = new AesGcm(cek, 16))
            aes.Decrypt(nonce, record[..^16], record[^16..], plain);
        int end = Array.FindLastIndex(plain, b => b != 0);
        if (end < 0 || plain[end] != 0x02) throw new InvalidDataException("missing last-record padding delimiter");
        return plain[..end];
    }

    public async ValueTask DisposeAsync()
    {
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
            await _app.StopAsync(cts.Token).ContinueWith(_ => { }, TaskScheduler.Default);
        await _app.DisposeAsync();
        foreach (var s in _subscribers.Values) s.Dispose();
    }
}
