using Chat.Core;
using Chat.Core.Auth;
using Chat.Core.Files;
using Chat.Core.Messaging;
using Chat.Core.Storage;
using Chat.Protocol;
using Chat.Server.Endpoints;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Chat.Server.Files;

/// <summary>
/// The file service over HTTP (PROTOCOL.md "Files", docs/files.md): upload links, signed uploads, downloads with
/// Range, thumbnails. Composition: <see cref="AddChatFiles"/> (the blob store behind it is chosen in Hosting/).
/// </summary>
internal static partial class FileEndpoints
{
    public static IServiceCollection AddChatFiles(this IServiceCollection services)
    {
        services.AddValidatedOptions<FileServiceOptions, FileServiceOptionsValidator>(FileServiceOptions.Section);
        services.AddSingleton(sp =>
        {
            var chat = sp.GetRequiredService<IOptions<ChatOptions>>().Value;
            byte[] key = UrlSigner.LoadKey(chat.SigningKey, chat.DataDir, out bool generated);
            var log = sp.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(FileEndpoints).FullName!);
            if (chat.SigningKey.Length == 0 && chat.Backplane != BackplaneProvider.Local && !chat.BlobsShared)
                LogPerNodeKey(log, Path.Combine(chat.DataDir, "signing.key"));
            else if (generated)
                LogKeyGenerated(log, Path.Combine(chat.DataDir, "signing.key"));
            return new UrlSigner(key);
        });
        services.AddSingleton<IThumbnailer, SkiaThumbnailer>();
        services.AddSingleton<ILinkOrigin, NodeLinkOrigin>(); // links start with Chat:PublicUrl or this node's address
        services.AddSingleton<FileService>();
        services.AddSingleton<IAttachments>(sp => sp.GetRequiredService<FileService>());
        services.AddSingleton<FileCleanupService>();
        services.AddHostedService(sp => sp.GetRequiredService<FileCleanupService>());
        return services;
    }

    public static void MapChatFiles(this IEndpointRouteBuilder app)
    {
        var files = app.MapGroup("/api/files");

        files.MapPost("/upload-url", async (UploadUrlRequest req, HttpContext http, FileService svc, CancellationToken ct) =>
                Results.Json(await svc.CreateUploadAsync(Http.User(http).UserId, req, ct), ChatJson.Default.UploadUrlResponse))
            .AddEndpointFilter<RequireDeviceFilter>()
            .Returns<UploadUrlResponse>("Asks for a signed link to upload one file.", 200, 400, 401, 413, 429);

        files.MapPut("/{fileId}/upload", UploadAsync)
            .Returns<UploadedFile>("Uploads a file's bytes to its signed link.", 201, 400, 403, 404, 409, 413);
        files.MapMethods("/{fileId}", [HttpMethods.Get, HttpMethods.Head], (string fileId, HttpContext http, FileService svc, AuthService auth) =>
                DownloadAsync(fileId, thumbnail: false, http, svc, auth))
            .ReturnsFile("Downloads a file, with a bearer token or a signed link.", 401, 403, 404);
        files.MapMethods("/{fileId}/thumbnail", [HttpMethods.Get, HttpMethods.Head], (string fileId, HttpContext http, FileService svc, AuthService auth) =>
                DownloadAsync(fileId, thumbnail: true, http, svc, auth))
            .ReturnsFile("Downloads an image's thumbnail, with a bearer token or a signed link.", 401, 403, 404);
    }

    /// <summary><c>PUT {upload_url}</c>: the raw body streams into the blob store; the signature is the permission.</summary>
    private static async Task UploadAsync(string fileId, long? expires, string? signature, HttpContext http, FileService svc, ILoggerFactory logs)
    {
        if (!FileService.IsFileId(fileId)) throw ChatException.NotFound("File");
        // Kestrel's default 30 MB cap is for API calls; here the declared size (checked while streaming) is the limit.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = null;
        UploadedFile stored;
        try
        {
            var record = await svc.ReceiveUploadAsync(fileId, expires ?? 0, signature, http.Request.Body, http.Request.ContentLength, http.RequestAborted);
            stored = new UploadedFile(record.FileId, record.FileName, record.ContentType, record.Size, record.HasThumbnail);
        }
        catch (Exception ex) when (http.RequestAborted.IsCancellationRequested && ex is IOException or OperationCanceledException || ex is BadHttpRequestException)
        {
            // The client went away mid-upload: nothing was stored (the blob store wrote to a temp file only).
            LogUploadAborted(logs.CreateLogger(typeof(FileEndpoints).FullName!), fileId);
            if (!http.Response.HasStarted && !http.RequestAborted.IsCancellationRequested)
                await Http.WriteError(http, 400, ErrorCodes.InvalidRequest, "The upload was interrupted.");
            return;
        }
        http.Response.StatusCode = StatusCodes.Status201Created;
        await http.Response.WriteAsJsonAsync(stored, FileJson.Default.UploadedFile, cancellationToken: http.RequestAborted);
    }

    /// <summary>
    /// <c>GET /api/files/{id}</c> and <c>/thumbnail</c>: with a valid signed link (no headers, works in &lt;img src&gt;),
    /// or with a bearer token of the uploader or a member of a chat the file was sent to. Everyone else gets 404.
    /// </summary>
    private static async Task DownloadAsync(string fileId, bool thumbnail, HttpContext http, FileService svc, AuthService auth)
    {
        var ct = http.RequestAborted;
        string? signature = http.Request.Query["signature"];
        FileRecord? record;
        bool signed = signature is not null;
        if (signed)
        {
            _ = long.TryParse(http.Request.Query["expires"], out long expires);
            if (!svc.VerifyLink(thumbnail ? SignedAction.Thumbnail : SignedAction.Download, fileId, expires, signature))
            {
                await Http.WriteError(http, 403, ErrorCodes.Forbidden, "The link is invalid or has expired.");
                return;
            }
            record = await svc.GetCompleteAsync(fileId, ct);
        }
        else
        {
            var principal = await auth.AuthenticateAsync(Http.BearerToken(http), ct);
            if (principal is null)
            {
                await Http.WriteError(http, 401, ErrorCodes.Unauthorized, "A valid bearer token or a signed link is required.");
                return;
            }
            record = await svc.GetReadableAsync(fileId, principal.UserId, ct);
        }
        if (record is null || (thumbnail && !record.HasThumbnail))
        {
            await Http.WriteError(http, 404, ErrorCodes.NotFound, "File not found.");
            return;
        }

        var headers = http.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        // Even if a browser is navigated to an uploaded HTML or SVG file, it runs nothing and reaches nothing.
        headers.ContentSecurityPolicy = "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox";
        headers.CacheControl = "private, max-age=3600";
        string etag = thumbnail ? $"\"{fileId}-t\"" : $"\"{fileId}\""; // a file's bytes never change
        headers.ETag = etag;
        if (http.Request.Headers.IfNoneMatch.ToString() == etag)
        {
            http.Response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        if (thumbnail)
        {
            await ServeThumbnailAsync(http, svc, record, ct);
            return;
        }

        http.Response.ContentType = record.ContentType;
        var disposition = new ContentDispositionHeaderValue(FileNames.IsInline(record.ContentType) ? "inline" : "attachment");
        disposition.SetHttpFileName(record.FileName);
        headers.ContentDisposition = disposition.ToString();
        headers.AcceptRanges = "bytes";

        long size = record.Size, start = 0, length = size;
        var range = ParseRange(http.Request, etag, size);
        if (range is { } r)
        {
            if (r.Start < 0)
            {
                headers.ContentRange = $"bytes */{size}";
                http.Response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
                return;
            }
            (start, length) = (r.Start, r.Length);
            http.Response.StatusCode = StatusCodes.Status206PartialContent;
            headers.ContentRange = $"bytes {start}-{start + length - 1}/{size}";
        }
        http.Response.ContentLength = length;
        if (HttpMethods.IsHead(http.Request.Method)) return;

        await using var body = await svc.OpenAsync(record, thumbnail: false, start, range is null ? null : length, ct);
        if (body is null)
        {
            http.Response.ContentLength = null;
            http.Response.Headers.ContentRange = default;
            http.Response.Headers.ContentDisposition = default;
            await Http.WriteError(http, 404, ErrorCodes.NotFound, "File not found.");
            return;
        }
        try
        {
            await body.CopyToAsync(http.Response.Body, BoundedCopy.BufferSize, ct);
        }
        catch (Exception ex) when (ct.IsCancellationRequested && ex is IOException or OperationCanceledException)
        {
            // The client stopped reading (a video player seeking does this all the time).
        }
    }

    private static async Task ServeThumbnailAsync(HttpContext http, FileService svc, FileRecord record, CancellationToken ct)
    {
        byte[] data;
        await using (var body = await svc.OpenAsync(record, thumbnail: true, 0, null, ct))
        {
            if (body is null)
            {
                await Http.WriteError(http, 404, ErrorCodes.NotFound, "File not found.");
                return;
            }
            using var buffer = new MemoryStream();
            await body.CopyToAsync(buffer, ct); // thumbnails are a few KiB
            data = buffer.ToArray();
        }
        http.Response.ContentType = data is [0x89, 0x50, ..] ? "image/png" : "image/jpeg";
        http.Response.Headers.ContentDisposition = "inline";
        http.Response.ContentLength = data.Length;
        if (!HttpMethods.IsHead(http.Request.Method)) await http.Response.Body.WriteAsync(data, ct);
    }

    /// <summary>
    /// One byte range (RFC 9110): null = serve everything (no Range, a stale If-Range, or several ranges);
    /// Start = -1 = unsatisfiable (416).
    /// </summary>
    internal static (long Start, long Length)? ParseRange(HttpRequest request, string etag, long size)
    {
        var typed = request.GetTypedHeaders();
        var range = typed.Range;
        if (range is null || !"bytes".Equals(range.Unit.Value, StringComparison.OrdinalIgnoreCase) || range.Ranges.Count != 1 || size == 0) return null;
        if (typed.IfRange is { } ifRange && (ifRange.EntityTag is null || ifRange.EntityTag.Tag.Value != etag)) return null;
        var item = range.Ranges.First();
        long start, end;
        if (item.From is { } from)
        {
            if (from >= size) return (-1, 0);
            start = from;
            end = item.To is { } to ? Math.Min(to, size - 1) : size - 1;
            if (end < start) return (-1, 0);
        }
        else if (item.To is { } suffix && suffix > 0)
        {
            start = Math.Max(0, size - suffix);
            end = size - 1;
        }
        else
        {
            return (-1, 0);
        }
        return (start, end - start + 1);
    }

    [LoggerMessage(4020, LogLevel.Warning, "Chat:SigningKey is empty, so this node signs file links with its own key ({Path}); links made by one node fail on the others. Set the same Chat:SigningKey on every node.")]
    private static partial void LogPerNodeKey(ILogger logger, string path);

    [LoggerMessage(4021, LogLevel.Information, "Generated a file-link signing key in {Path} (set Chat:SigningKey to choose one)")]
    private static partial void LogKeyGenerated(ILogger logger, string path);

    [LoggerMessage(4022, LogLevel.Information, "Upload of file {FileId} was interrupted; nothing stored")]
    private static partial void LogUploadAborted(ILogger logger, string fileId);
}
