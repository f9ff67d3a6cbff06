using System.Net;
using Chat.Client;
using Chat.Core.Files;
using Chat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using SkiaSharp;

namespace Chat.Tests.Files;

/// <summary>End-to-end over real sockets: upload link → PUT → message with attachment → downloads (PROTOCOL.md "Files").</summary>
public sealed class FileFlowTests
{
    [Fact]
    public async Task Image_flow_delivers_signed_links_and_a_smaller_valid_thumbnail()
    {
        await using var server = await TestServer.StartAsync();
        await using var p = await server.PairAsync();
        byte[] png = FileKit.Png(1200, 800);

        var ticket = await p.Alice.UploadAsync("sunset.png", "image/png", png);
        Assert.Equal(900, ticket.ExpiresIn);
        Assert.StartsWith(server.BaseAddress.ToString().TrimEnd('/'), ticket.UploadUrl, StringComparison.Ordinal);

        var msg = await p.SendAttachmentAsync(ticket.FileId);
        var att = msg.GetProperty("attachment");
        Assert.Equal("", msg.Str("content"));
        Assert.Equal("sunset.png", att.Str("file_name"));
        Assert.Equal("image/png", att.Str("type"));
        Assert.Equal(png.Length, att.Long("size"));
        string url = att.Str("url")!, thumbUrl = att.Str("thumbnail_url")!;
        Assert.Contains("signature=", url, StringComparison.Ordinal);

        // The signed link needs no header (an <img src>), serves the exact bytes inline, never sniffed.
        using (var res = await server.GetAsync(url))
        {
            res.AssertStatus(HttpStatusCode.OK);
            Assert.Equal(png, await res.Content.ReadAsByteArrayAsync());
            Assert.Equal("image/png", res.Content.Headers.ContentType!.MediaType);
            Assert.Equal("nosniff", res.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.Equal("inline", res.Content.Headers.ContentDisposition!.DispositionType);
        }

        // The thumbnail is a real, smaller image: longest side 320, aspect kept.
        using (var res = await server.GetAsync(thumbUrl))
        {
            res.AssertStatus(HttpStatusCode.OK);
            byte[] thumb = await res.Content.ReadAsByteArrayAsync();
            Assert.True(thumb.Length < png.Length);
            using var decoded = SKBitmap.Decode(thumb);
            Assert.NotNull(decoded);
            Assert.Equal((320, 213), (decoded.Width, decoded.Height));
            Assert.StartsWith("image/", res.Content.Headers.ContentType!.MediaType, StringComparison.Ordinal);
            Assert.Equal("nosniff", res.Headers.GetValues("X-Content-Type-Options").Single());
        }

        // History describes the attachment the same way.
        var history = await p.Bob.HistoryAsync(p.ChatId);
        var described = history.Messages.Single().Attachment!;
        Assert.Equal((ticket.FileId, "sunset.png", "image/png", png.Length), (described.FileId, described.FileName, described.Type, described.Size));
        Assert.NotNull(described.ThumbnailUrl);

        // Bearer access: uploader and chat members yes; anyone else 404; no credentials at all 401.
        var (_, carolAuth) = await server.NewUserAsync("carol");
        string path = $"/api/files/{ticket.FileId}";
        using (var res = await server.GetAsync(path, p.BobAuth.Token)) Assert.Equal(png, await res.Content.ReadAsByteArrayAsync());
        using (var res = await server.GetAsync(path, p.AliceAuth.Token)) res.AssertStatus(HttpStatusCode.OK);
        using (var res = await server.GetAsync(path, carolAuth.Token)) res.AssertStatus(HttpStatusCode.NotFound);
        using (var res = await server.GetAsync(path + "/thumbnail", carolAuth.Token)) res.AssertStatus(HttpStatusCode.NotFound);
        using (var res = await server.GetAsync(path)) res.AssertStatus(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Pdf_and_other_documents_are_downloads_without_thumbnail()
    {
        await using var server = await TestServer.StartAsync();
        await using var p = await server.PairAsync();
        byte[] pdf = "%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"u8.ToArray();
        var ticket = await p.Alice.UploadAsync("Quarterly report (final).pdf", "application/pdf", pdf);
        var msg = await p.SendAttachmentAsync(ticket.FileId, "the report");
        var att = msg.GetProperty("attachment");
        Assert.Equal("application/pdf", att.Str("type"));
        Assert.False(att.TryGetProperty("thumbnail_url", out _));

        using var res = await server.GetAsync(att.Str("url")!);
        res.AssertStatus(HttpStatusCode.OK);
        Assert.Equal(pdf, await res.Content.ReadAsByteArrayAsync());
        Assert.Equal("application/pdf", res.Content.Headers.ContentType!.MediaType);
        Assert.Equal("attachment", res.Content.Headers.ContentDisposition!.DispositionType);
        Assert.Equal("Quarterly report (final).pdf", res.Content.Headers.ContentDisposition.FileNameStar);
        Assert.Equal("nosniff", res.Headers.GetValues("X-Content-Type-Options").Single());

        // Uploaded HTML or SVG can never run on our origin: served as a download, sandboxed.
        var html = await p.Alice.UploadAsync("page.html", "text/html", "<script>alert(1)</script>"u8.ToArray());
        var svg = await p.Alice.UploadAsync("logo.svg", "image/svg+xml", "<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"u8.ToArray());
        foreach (var t in new[] { html, svg })
        {
            var a = (await p.SendAttachmentAsync(t.FileId)).GetProperty("attachment");
            Assert.False(a.TryGetProperty("thumbnail_url", out _));
            using var r = await server.GetAsync(a.Str("url")!);
            Assert.Equal("attachment", r.Content.Headers.ContentDisposition!.DispositionType);
            Assert.Contains("sandbox", r.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Video_is_served_inline_with_range_requests()
    {
        await using var server = await TestServer.StartAsync();
        await using var p = await server.PairAsync();
        byte[] video = FileKit.RandomBytes(1_000_003);
        var ticket = await p.Alice.UploadAsync("clip.mp4", "video/mp4", video);
        string url = (await p.SendAttachmentAsync(ticket.FileId)).GetProperty("attachment").Str("url")!;

        using (var res = await server.GetAsync(url))
        {
            res.AssertStatus(HttpStatusCode.OK);
            Assert.Equal("bytes", res.Headers.AcceptRanges.Single());
            Assert.Equal("inline", res.Content.Headers.ContentDisposition!.DispositionType);
            Assert.Equal(video.Length, res.Content.Headers.ContentLength);
        }
        using (var res = await server.GetAsync(url, range: "bytes=100-199"))
        {
            res.AssertStatus(HttpStatusCode.PartialContent);
            Assert.Equal($"bytes 100-199/{video.Length}", res.Content.Headers.ContentRange!.ToString());
            Assert.Equal(video.AsSpan(100, 100).ToArray(), await res.Content.ReadAsByteArrayAsync());
        }
        using (var res = await server.GetAsync(url, range: "bytes=999990-")) // open-ended: to the end
        {
            res.AssertStatus(HttpStatusCode.PartialContent);
            Assert.Equal(video.AsSpan(999_990).ToArray(), await res.Content.ReadAsByteArrayAsync());
        }
        using (var res = await server.GetAsync(url, range: "bytes=-16")) // suffix: the last 16 bytes
        {
            res.AssertStatus(HttpStatusCode.PartialContent);
            Assert.Equal($"bytes {video.Length - 16}-{video.Length - 1}/{video.Length}", res.Content.Headers.ContentRange!.ToString());
            Assert.Equal(video.AsSpan(video.Length - 16).ToArray(), await res.Content.ReadAsByteArrayAsync());
        }
        using (var res = await server.GetAsync($"/api/files/{ticket.FileId}", p.BobAuth.Token, range: "bytes=0-0"))
        {
            res.AssertStatus(HttpStatusCode.PartialContent);
            Assert.Equal(video.AsSpan(0, 1).ToArray(), await res.Content.ReadAsByteArrayAsync());
        }
        using (var res = await server.GetAsync(url, range: $"bytes={video.Length}-"))
        {
            res.AssertStatus(HttpStatusCode.RequestedRangeNotSatisfiable);
            Assert.Equal($"bytes */{video.Length}", res.Content.Headers.ContentRange!.ToString());
        }
    }

    [Fact]
    public async Task Upload_link_requests_are_validated()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, _) = await server.NewUserAsync("alice");

        async Task Refused(string? name, string type, long size, HttpStatusCode status, string code)
        {
            var ex = await Assert.ThrowsAsync<ChatApiException>(() => alice.UploadUrlAsync(name!, type, size));
            Assert.Equal((status, code), (ex.Status, ex.Code));
        }
        await Refused("big.bin", "application/octet-stream", 50L * 1024 * 1024 + 1, HttpStatusCode.RequestEntityTooLarge, "file_too_large");
        await Refused("", "text/plain", 10, HttpStatusCode.BadRequest, "invalid_request");
        await Refused("   ", "text/plain", 10, HttpStatusCode.BadRequest, "invalid_request");
        await Refused(new string('é', 128) + ".txt", "text/plain", 10, HttpStatusCode.BadRequest, "invalid_request"); // 260 UTF-8 bytes
        await Refused("line\nbreak.txt", "text/plain", 10, HttpStatusCode.BadRequest, "invalid_request");
        await Refused("nul\0.txt", "text/plain", 10, HttpStatusCode.BadRequest, "invalid_request");
        await Refused("neg.txt", "text/plain", -1, HttpStatusCode.BadRequest, "invalid_request");

        // Exactly at the limit is fine; so is an odd MIME type (served as application/octet-stream).
        var ok = await alice.UploadUrlAsync("max.bin", "not a mime type", 50L * 1024 * 1024);
        Assert.True(FileService.IsFileId(ok.FileId));

        // Without a token: 401.
        var anonymous = server.Api();
        var unauth = await Assert.ThrowsAsync<ChatApiException>(() => anonymous.UploadUrlAsync("a.txt", "text/plain", 1));
        Assert.Equal(HttpStatusCode.Unauthorized, unauth.Status);
    }

    [Fact]
    public async Task Uploads_that_break_the_rules_store_nothing()
    {
        await using var server = await TestServer.StartAsync(("Chat:Limits:UploadUrlExpirySeconds", "2"));
        var (alice, aliceAuth) = await server.NewUserAsync("alice");
        var blobs = server.Services.GetRequiredService<IBlobStore>();
        byte[] ten = FileKit.RandomBytes(10);

        // More bytes than declared, announced by Content-Length: refused before reading.
        var t1 = await alice.UploadUrlAsync("a.bin", "application/octet-stream", 10);
        using (var res = await server.PutAsync(t1.UploadUrl, FileKit.RandomBytes(11)))
        {
            res.AssertStatus(HttpStatusCode.RequestEntityTooLarge);
            Assert.Equal("file_too_large", await res.ErrorCodeAsync());
        }
        // More bytes than declared, chunked (no length up front): the server counts and stops.
        using (var res = await server.PutAsync(t1.UploadUrl, FileKit.RandomBytes(50_000), chunked: true))
            res.AssertStatus(HttpStatusCode.RequestEntityTooLarge);
        // Fewer bytes than declared, either way.
        using (var res = await server.PutAsync(t1.UploadUrl, FileKit.RandomBytes(9))) res.AssertStatus(HttpStatusCode.BadRequest);
        using (var res = await server.PutAsync(t1.UploadUrl, FileKit.RandomBytes(9), chunked: true)) res.AssertStatus(HttpStatusCode.BadRequest);
        Assert.False(await blobs.ExistsAsync(t1.FileId, CancellationToken.None));

        // A tampered signature, a tampered expiry, another file's signature: 403, nothing stored.
        var t2 = await alice.UploadUrlAsync("b.bin", "application/octet-stream", 10);
        string sig = t2.UploadUrl[(t2.UploadUrl.IndexOf("signature=", StringComparison.Ordinal) + 10)..];
        string flipped = t2.UploadUrl[..^1] + (t2.UploadUrl[^1] == 'A' ? 'B' : 'A');
        using (var res = await server.PutAsync(flipped, ten)) res.AssertStatus(HttpStatusCode.Forbidden);
        string later = System.Text.RegularExpressions.Regex.Replace(t2.UploadUrl, "expires=(\\d+)", m => $"expires={long.Parse(m.Groups[1].Value) + 3600}");
        using (var res = await server.PutAsync(later, ten)) res.AssertStatus(HttpStatusCode.Forbidden);
        using (var res = await server.PutAsync(t1.UploadUrl.Replace(t1.FileId, t2.FileId, StringComparison.Ordinal), ten)) res.AssertStatus(HttpStatusCode.Forbidden);
        using (var res = await server.PutAsync(t2.UploadUrl.Split('?')[0], ten)) res.AssertStatus(HttpStatusCode.Forbidden);
        // An upload signature is not a download signature.
        using (var res = await server.GetAsync($"/api/files/{t2.FileId}?{t2.UploadUrl.Split('?')[1]}")) res.AssertStatus(HttpStatusCode.Forbidden);
        Assert.False(await blobs.ExistsAsync(t2.FileId, CancellationToken.None));
        Assert.NotEmpty(sig);

        // The real upload succeeds once; a second PUT to the same link is a conflict and changes nothing.
        using (var res = await server.PutAsync(t2.UploadUrl, ten)) res.AssertStatus(HttpStatusCode.Created);
        using (var res = await server.PutAsync(t2.UploadUrl, FileKit.RandomBytes(10, seed: 2))) res.AssertStatus(HttpStatusCode.Conflict);
        using (var res = await server.GetAsync($"/api/files/{t2.FileId}", aliceAuth.Token)) Assert.Equal(ten, await res.Content.ReadAsByteArrayAsync());

        // An expired link: refused, nothing stored.
        var t3 = await alice.UploadUrlAsync("c.bin", "application/octet-stream", 10);
        await Task.Delay(TimeSpan.FromSeconds(3.2));
        using (var res = await server.PutAsync(t3.UploadUrl, ten))
        {
            res.AssertStatus(HttpStatusCode.Forbidden);
            Assert.Equal("forbidden", await res.ErrorCodeAsync());
        }
        Assert.False(await blobs.ExistsAsync(t3.FileId, CancellationToken.None));

        // Nothing half-written anywhere in the local store.
        string root = Path.Combine(server.DataDir, "files");
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(root, ".tmp")));
        Assert.Equal([t2.FileId], Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Only_the_uploader_can_attach_and_only_a_finished_upload()
    {
        await using var server = await TestServer.StartAsync();
        await using var p = await server.PairAsync();
        var alices = await p.Alice.UploadAsync("mine.txt", "text/plain", "alice's"u8.ToArray());
        var pending = await p.Alice.UploadUrlAsync("later.txt", "text/plain", 5);

        async Task<string?> AttachError(ChatSocket socket, string fileId)
        {
            string cid = Guid.NewGuid().ToString("N");
            await socket.SendMessageFrameAsync(p.ChatId, "", cid, fileId);
            var reply = await socket.NextAsync(f => f.Str("client_msg_id") == cid, FileKit.Wait);
            return reply.Type() == "error" ? reply.Str("code") : null;
        }
        Assert.Equal("forbidden", await AttachError(p.B, alices.FileId));           // someone else's file
        Assert.Equal("invalid_request", await AttachError(p.A, pending.FileId));    // not uploaded yet
        Assert.Equal("not_found", await AttachError(p.A, "0123456789abcdef0123456789abcdef"));
        Assert.Equal("not_found", await AttachError(p.A, "../../etc/passwd"));
        Assert.Null(await AttachError(p.A, alices.FileId));

        var history = await p.Bob.HistoryAsync(p.ChatId);
        Assert.Equal(alices.FileId, history.Messages.Single().Attachment!.FileId); // the refused sends stored nothing
    }

    [Fact]
    public async Task Traversal_names_are_kept_only_for_display()
    {
        await using var server = await TestServer.StartAsync();
        await using var p = await server.PairAsync();
        var cases = new Dictionary<string, string>
        {
            ["../../etc/passwd"] = "etc_passwd",
            ["..\\..\\windows\\win.ini"] = "windows_win.ini",
            ["/abs/path.txt"] = "abs_path.txt",
            [".."] = "file",
            ["evil\u202Egnp.exe"] = "evilgnp.exe",
            ["résumé 2024.pdf"] = "résumé 2024.pdf",
        };
        foreach (var (name, shown) in cases)
        {
            var ticket = await p.Alice.UploadAsync(name, "application/octet-stream", "x"u8.ToArray());
            var att = (await p.SendAttachmentAsync(ticket.FileId)).GetProperty("attachment");
            Assert.Equal(shown, att.Str("file_name"));
            using var res = await server.GetAsync(att.Str("url")!);
            string disposition = res.Content.Headers.ContentDisposition!.ToString();
            Assert.DoesNotContain("/", disposition, StringComparison.Ordinal);
            Assert.DoesNotContain("..", disposition, StringComparison.Ordinal);
        }
        // Stored names are ids: nothing named after user input exists anywhere under the data folder.
        var stored = Directory.EnumerateFiles(server.DataDir, "*", SearchOption.AllDirectories).Select(Path.GetFileName).ToList();
        Assert.DoesNotContain(stored, f => f!.Contains("passwd", StringComparison.Ordinal) || f.Contains("win.ini", StringComparison.Ordinal));
        Assert.False(File.Exists(Path.Combine(server.DataDir, "..", "etc", "passwd")));
    }

    [Fact]
    public async Task Group_members_read_files_sent_there_and_lose_access_when_removed()
    {
        await using var server = await TestServer.StartAsync();
        var (alice, aliceAuth) = await server.NewUserAsync("alice");
        var (bob, bobAuth) = await server.NewUserAsync("bob");
        var (_, carolAuth) = await server.NewUserAsync("carol");
        var group = await alice.CreateGroupAsync("team", [bobAuth.UserId]);
        await using var a = await server.ConnectReadyAsync(aliceAuth.Token);
        var ticket = await alice.UploadAsync("plan.txt", "text/plain", "the plan"u8.ToArray());
        await a.SendMessageAsync(group.GroupId, "", fileId: ticket.FileId, timeout: FileKit.Wait);

        string path = $"/api/files/{ticket.FileId}";
        using (var res = await server.GetAsync(path, bobAuth.Token)) res.AssertStatus(HttpStatusCode.OK);
        using (var res = await server.GetAsync(path, carolAuth.Token)) res.AssertStatus(HttpStatusCode.NotFound);
        await alice.RemoveMemberAsync(group.GroupId, bobAuth.UserId);
        using (var res = await server.GetAsync(path, bobAuth.Token)) res.AssertStatus(HttpStatusCode.NotFound);
        using (var res = await server.GetAsync(path, aliceAuth.Token)) res.AssertStatus(HttpStatusCode.OK);
        Assert.NotNull(bob);
    }

    [Fact]
    public async Task Bad_and_hostile_images_are_stored_without_thumbnail()
    {
        await using var server = await TestServer.StartAsync();
        await using var p = await server.PairAsync();

        var garbage = await p.Alice.UploadAsync("broken.png", "image/png", FileKit.RandomBytes(5000));
        var bomb = await p.Alice.UploadAsync("bomb.png", "image/png", FileKit.HugePngHeader(100_000, 100_000)); // 10 gigapixels declared
        var jpeg = await p.Alice.UploadAsync("photo.jpg", "image/jpeg", FileKit.Jpeg(2000, 3000));
        foreach (var t in new[] { garbage, bomb })
        {
            var att = (await p.SendAttachmentAsync(t.FileId)).GetProperty("attachment");
            Assert.False(att.TryGetProperty("thumbnail_url", out _));
            using var res = await server.GetAsync(att.Str("url")!);
            res.AssertStatus(HttpStatusCode.OK);
        }
        var photo = (await p.SendAttachmentAsync(jpeg.FileId)).GetProperty("attachment");
        using var thumb = await server.GetAsync(photo.Str("thumbnail_url")!);
        using var decoded = SKBitmap.Decode(await thumb.Content.ReadAsByteArrayAsync());
        Assert.Equal((213, 320), (decoded.Width, decoded.Height));
    }

    [Fact]
    public async Task Uploads_never_attached_are_cleaned_up()
    {
        await using var server = await TestServer.StartAsync();
        await using var p = await server.PairAsync();
        var blobs = server.Services.GetRequiredService<IBlobStore>();
        var attached = await p.Alice.UploadAsync("kept.png", "image/png", FileKit.Png(400, 300));
        await p.SendAttachmentAsync(attached.FileId);
        var orphan = await p.Alice.UploadAsync("orphan.png", "image/png", FileKit.Png(400, 300));
        var neverUploaded = await p.Alice.UploadUrlAsync("never.bin", "application/octet-stream", 10);
        Assert.True(await blobs.ExistsAsync(BlobKeys.Thumbnail(orphan.FileId), CancellationToken.None));

        // Not old enough yet: nothing goes.
        var cleanup = server.Services.GetRequiredService<FileCleanupService>();
        Assert.Equal(0, await cleanup.SweepAsync(CancellationToken.None));
        // As if a day had passed: the two unattached uploads go, blobs and thumbnails included.
        Assert.Equal(2, await cleanup.SweepAsync(DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeMilliseconds(), CancellationToken.None));
        Assert.False(await blobs.ExistsAsync(orphan.FileId, CancellationToken.None));
        Assert.False(await blobs.ExistsAsync(BlobKeys.Thumbnail(orphan.FileId), CancellationToken.None));
        Assert.True(await blobs.ExistsAsync(attached.FileId, CancellationToken.None));
        Assert.True(await blobs.ExistsAsync(BlobKeys.Thumbnail(attached.FileId), CancellationToken.None));

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => p.A.SendMessageAsync(p.ChatId, "", fileId: orphan.FileId, timeout: FileKit.Wait));
        Assert.Contains("not_found", ex.Message, StringComparison.Ordinal);
        using var res = await server.PutAsync(neverUploaded.UploadUrl, FileKit.RandomBytes(10));
        res.AssertStatus(HttpStatusCode.NotFound);
        using var still = await server.GetAsync($"/api/files/{attached.FileId}", p.BobAuth.Token);
        still.AssertStatus(HttpStatusCode.OK);
    }
}
