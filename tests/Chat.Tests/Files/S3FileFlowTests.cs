using System.Net;
using Chat.Blobs.S3;
using Chat.Client;
using Chat.Core.Files;
using Chat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using SkiaSharp;

namespace Chat.Tests.Files;

/// <summary>The whole file flow with Chat:Blobs=s3: bytes go to the bucket, not to the local data folder.</summary>
public sealed class S3FileFlowTests
{
    [S3Fact]
    public async Task Image_upload_thumbnail_and_range_download_through_S3()
    {
        await using var server = await TestServer.StartAsync(S3TestBucket.ServerSettings());
        Assert.IsType<S3BlobStore>(server.Services.GetRequiredService<IBlobStore>());
        await using var p = await server.PairAsync();
        byte[] png = FileKit.Png(640, 480);
        var ticket = await p.Alice.UploadAsync("s3.png", "image/png", png);
        var att = (await p.SendAttachmentAsync(ticket.FileId)).GetProperty("attachment");

        using (var res = await server.GetAsync(att.Str("url")!)) Assert.Equal(png, await res.Content.ReadAsByteArrayAsync());
        using (var res = await server.GetAsync(att.Str("url")!, range: "bytes=8-23"))
        {
            res.AssertStatus(HttpStatusCode.PartialContent);
            Assert.Equal(png.AsSpan(8, 16).ToArray(), await res.Content.ReadAsByteArrayAsync());
        }
        using (var res = await server.GetAsync(att.Str("thumbnail_url")!))
        {
            using var thumb = SKBitmap.Decode(await res.Content.ReadAsByteArrayAsync());
            Assert.Equal((320, 240), (thumb.Width, thumb.Height));
        }

        // The objects are in the bucket; the local data folder holds no file bytes.
        using var direct = new S3BlobStore(S3TestBucket.Options(), Path.Combine(server.DataDir, "probe"));
        Assert.True(await direct.ExistsAsync(ticket.FileId, CancellationToken.None));
        Assert.True(await direct.ExistsAsync(BlobKeys.Thumbnail(ticket.FileId), CancellationToken.None));
        Assert.False(Directory.Exists(Path.Combine(server.DataDir, "files")) &&
                     Directory.EnumerateFiles(Path.Combine(server.DataDir, "files"), "*", SearchOption.AllDirectories).Any());

        // A body over the declared size stores nothing in the bucket either.
        var t2 = await p.Alice.UploadUrlAsync("over.bin", "application/octet-stream", 100);
        using (var res = await server.PutAsync(t2.UploadUrl, FileKit.RandomBytes(5000), chunked: true)) res.AssertStatus(HttpStatusCode.RequestEntityTooLarge);
        Assert.False(await direct.ExistsAsync(t2.FileId, CancellationToken.None));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(server.DataDir, "s3-spool")));

        // Cleanup removes unattached uploads from the bucket.
        var orphan = await p.Alice.UploadAsync("orphan.png", "image/png", png);
        await server.Services.GetRequiredService<FileCleanupService>().SweepAsync(DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeMilliseconds(), CancellationToken.None);
        Assert.False(await direct.ExistsAsync(orphan.FileId, CancellationToken.None));
        Assert.False(await direct.ExistsAsync(BlobKeys.Thumbnail(orphan.FileId), CancellationToken.None));
        Assert.True(await direct.ExistsAsync(ticket.FileId, CancellationToken.None));
    }
}
