using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Chat.Client;
using Chat.Protocol;
using Chat.Tests.Infrastructure;
using SkiaSharp;

namespace Chat.Tests.Files;

/// <summary>Helpers for the file tests: uploads over the real HTTP path, raw requests, test images.</summary>
internal static class FileKit
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    public static async Task<UploadUrlResponse> UploadAsync(this ChatApi api, string name, string type, byte[] data)
    {
        using var cts = new CancellationTokenSource(Wait);
        var ticket = await api.UploadUrlAsync(name, type, data.Length, cts.Token);
        using var body = new ByteArrayContent(data);
        body.Headers.ContentType = MediaTypeHeaderValue.Parse(type);
        await api.UploadAsync(ticket.UploadUrl, body, cts.Token);
        return ticket;
    }

    /// <summary>A PUT with exactly these bytes; <paramref name="chunked"/> sends no Content-Length (the server must count).</summary>
    public static async Task<HttpResponseMessage> PutAsync(this TestServer server, string url, byte[] data, bool chunked = false)
    {
        using var cts = new CancellationTokenSource(Wait);
        var http = server.Api().Http;
        using var req = new HttpRequestMessage(HttpMethod.Put, url);
        req.Content = chunked ? new StreamContent(new NonSeekableStream(data)) : new ByteArrayContent(data);
        if (chunked) req.Headers.TransferEncodingChunked = true;
        return await http.SendAsync(req, cts.Token);
    }

    /// <summary>GET without any Authorization header (a signed link, as an &lt;img src&gt; would load it).</summary>
    public static async Task<HttpResponseMessage> GetAsync(this TestServer server, string url, string? token = null, string? range = null)
    {
        using var cts = new CancellationTokenSource(Wait);
        var http = server.Api().Http;
        using var req = new HttpRequestMessage(HttpMethod.Get, url);
        if (token is not null) req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (range is not null) req.Headers.TryAddWithoutValidation("Range", range);
        var res = await http.SendAsync(req, HttpCompletionOption.ResponseContentRead, cts.Token);
        return res;
    }

    public static async Task<string?> ErrorCodeAsync(this HttpResponseMessage res)
    {
        string text = await res.Content.ReadAsStringAsync();
        try
        {
            return JsonDocument.Parse(text).RootElement.GetProperty("code").GetString();
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }
    }

    public static void AssertStatus(this HttpResponseMessage res, HttpStatusCode status) =>
        Assert.True(res.StatusCode == status, $"expected {(int)status}, got {(int)res.StatusCode}: {res.Content.ReadAsStringAsync().GetAwaiter().GetResult()}");

    /// <summary>A direct chat between two fresh users, both connected.</summary>
    public static async Task<Pair> PairAsync(this TestServer server)
    {
        var (alice, aliceAuth) = await server.NewUserAsync("alice");
        var (bob, bobAuth) = await server.NewUserAsync("bob");
        string chatId = (await alice.DirectChatAsync(bobAuth.UserId)).ChatId;
        var a = await server.ConnectReadyAsync(aliceAuth.Token);
        var b = await server.ConnectReadyAsync(bobAuth.Token);
        return new Pair(alice, aliceAuth, bob, bobAuth, chatId, a, b);
    }

    public sealed record Pair(ChatApi Alice, AuthResponse AliceAuth, ChatApi Bob, AuthResponse BobAuth, string ChatId, ChatSocket A, ChatSocket B) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await A.DisposeAsync();
            await B.DisposeAsync();
        }
    }

    /// <summary>Sends a message with the attachment and returns the receiver's <c>new_message</c>.</summary>
    public static async Task<JsonElement> SendAttachmentAsync(this Pair p, string fileId, string content = "")
    {
        await p.A.SendMessageAsync(p.ChatId, content, fileId: fileId, timeout: Wait);
        return await p.B.NextAsync(f => f.Type() == "new_message" && f.TryGetProperty("attachment", out var att) && att.Str("file_id") == fileId, Wait);
    }

    public static byte[] Png(int width, int height)
    {
        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using (var canvas = new SKCanvas(bitmap))
        {
            using var paint = new SKPaint
            {
                Shader = SKShader.CreateLinearGradient(new SKPoint(0, 0), new SKPoint(width, height),
                    [SKColors.OrangeRed, SKColors.MidnightBlue], SKShaderTileMode.Clamp),
            };
            canvas.DrawRect(0, 0, width, height, paint);
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    public static byte[] Jpeg(int width, int height)
    {
        using var bitmap = SKBitmap.Decode(Png(width, height));
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Jpeg, 85);
        return data.ToArray();
    }

    /// <summary>A tiny valid PNG header that declares an enormous canvas (a "decompression bomb" probe).</summary>
    public static byte[] HugePngHeader(int width, int height)
    {
        var ms = new MemoryStream();
        ms.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        byte[] ihdr = new byte[17];
        "IHDR"u8.CopyTo(ihdr);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(8), height);
        ihdr[12] = 8; // bit depth
        ihdr[13] = 6; // RGBA
        byte[] len = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(len, 13);
        ms.Write(len);
        ms.Write(ihdr);
        byte[] crc = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(ihdr));
        ms.Write(crc);
        ms.Write(new byte[4096]); // "image data" that never comes
        return ms.ToArray();
    }

    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        return ~crc;
    }

    public static byte[] RandomBytes(int n, int seed = 1)
    {
        var bytes = new byte[n];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>A stream that cannot seek and has no length, so HttpClient sends it chunked.</summary>
    private sealed class NonSeekableStream(byte[] data) : Stream
    {
        private readonly MemoryStream _inner = new(data);
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
