using System.Collections.Concurrent;
using Chat.Core.Caching;
using Chat.Core.Diagnostics;
using Chat.Core.Domain;
using Chat.Core.Messaging;
using Chat.Core.Storage;
using Chat.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Chat.Core.Files;

/// <summary>
/// File attachments (PROTOCOL.md "Files"): issues signed upload links, receives uploads into the blob store with the
/// declared size enforced, makes thumbnails, answers who may read a file, and describes attachments with signed,
/// expiring download links. HTTP lives in the server; this class only sees streams.
/// </summary>
public sealed partial class FileService : IAttachments
{
    private readonly IFileStore _files;
    private readonly IBlobStore _blobs;
    private readonly IThumbnailer _thumbnailer;
    private readonly UrlSigner _signer;
    private readonly ILinkOrigin _links;
    private readonly ChatOptions _chat;
    private readonly FileServiceOptions _options;
    // Quota check and insert under one lock per user (striped): concurrent requests of one user on this node cannot
    // both pass the check. Nodes of a cluster check independently (each may let one request more through).
    private readonly SemaphoreSlim[] _quotaLocks = Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1)).ToArray();
    private readonly ILogger<FileService> _log;
    private readonly TimeProvider _time;
    // Completed file records never change (except attached_at, which describing does not use): cache them for the
    // fanout and history paths, which describe the same file for every recipient and page.
    private readonly BoundedCache<string, FileRecord> _complete;
    // Uploads in progress on this node: a second PUT to the same link while one runs gets 409.
    private readonly ConcurrentDictionary<string, byte> _receiving = new(StringComparer.Ordinal);

    public FileService(
        IFileStore files, IBlobStore blobs, IThumbnailer thumbnailer, UrlSigner signer, ILinkOrigin links, IOptions<ChatOptions> chat,
        IOptions<FileServiceOptions> options, ChatMetrics metrics, TimeProvider time, ILogger<FileService> log)
    {
        _files = files;
        _blobs = blobs;
        _thumbnailer = thumbnailer;
        _signer = signer;
        _links = links;
        _chat = chat.Value;
        _options = options.Value;
        _log = log;
        _time = time;
        _complete = new BoundedCache<string, FileRecord>("files", _chat.Caches.Files, metrics, StringComparer.Ordinal);
    }

    public IBlobStore Blobs => _blobs;

    /// <summary>File ids are what <see cref="Ids.NewId"/> makes: 32 lower-case hex digits.</summary>
    public static bool IsFileId(string? id)
    {
        if (id is not { Length: 32 }) return false;
        foreach (char c in id)
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f'))) return false;
        return true;
    }

    // ---- upload

    /// <summary>Step 1: validates the declared file and returns a signed upload link for it.</summary>
    public async Task<UploadUrlResponse> CreateUploadAsync(string userId, UploadUrlRequest req, CancellationToken ct)
    {
        string name = FileNames.Sanitize(req.FileName, out string? error) ?? throw ChatException.Invalid(error!);
        if (req.FileSize is not { } size) throw ChatException.Invalid("file_size is required.");
        if (size < 0) throw ChatException.Invalid("file_size must not be negative.");
        long max = _chat.Limits.MaxFileBytes;
        if (size > max) throw new ChatException(ErrorCodes.FileTooLarge, $"Files may be at most {max} bytes.");
        string type = FileNames.CleanContentType(req.FileType);

        int ttl = _chat.Limits.UploadUrlExpirySeconds;
        var gate = _quotaLocks[(int)((uint)StringComparer.Ordinal.GetHashCode(userId) % (uint)_quotaLocks.Length)];
        await gate.WaitAsync(ct);
        FileRecord record;
        long now;
        try
        {
            now = _time.NowMs();
            await CheckQuotaAsync(userId, size, now, ttl, ct);
            record = new FileRecord(Ids.NewId(), userId, name, type, size, now, Complete: false, HasThumbnail: false, AttachedAt: null);
            await _files.CreateFileAsync(record, ct);
        }
        finally
        {
            gate.Release();
        }
        long expires = now / 1000 + ttl;
        string url = Link(record.FileId, "/upload", SignedAction.Upload, expires);
        LogUploadIssued(_log, record.FileId, userId, size, type);
        return new UploadUrlResponse(record.FileId, url, ttl);
    }

    /// <summary>
    /// Chat:Files:MaxPendingUploads and UserQuotaBytes, counted from the files table (so they hold across restarts):
    /// pending uploads whose link has expired can no longer complete and do not count.
    /// </summary>
    private async Task CheckQuotaAsync(string userId, long size, long now, int ttlSeconds, CancellationToken ct)
    {
        long quota = _options.UserQuotaBytes;
        int maxPending = _options.MaxPendingUploads;
        if (quota == 0 && maxPending == 0) return;
        long ttlMs = ttlSeconds * 1000L;
        var usage = await _files.GetFileUsageAsync(userId, now - ttlMs, ct);
        if (maxPending > 0 && usage.PendingCount >= maxPending)
        {
            long wait = Math.Clamp((usage.OldestPendingAt ?? now) + ttlMs - now, 1000, ttlMs);
            LogQuotaRefused(_log, userId, "outstanding upload links");
            throw new ChatException(ErrorCodes.RateLimited,
                $"You have {usage.PendingCount} uploads outstanding, the most allowed ({maxPending}): finish one, or wait until its link expires.", (int)wait);
        }
        long used = usage.StoredBytes + usage.PendingBytes;
        if (quota > 0 && used + size > quota)
        {
            LogQuotaRefused(_log, userId, "storage quota");
            throw new ChatException(ErrorCodes.FileTooLarge,
                $"This file would take your files over your storage quota of {quota} bytes ({used} bytes used or reserved by pending uploads).");
        }
    }

    /// <summary>
    /// Step 2: stores the body of <c>PUT {upload_url}</c>. Refuses (storing nothing) a bad or expired signature, a
    /// finished upload, and a body that is larger or smaller than declared.
    /// </summary>
    public async Task<FileRecord> ReceiveUploadAsync(string fileId, long expires, string? signature, Stream body, long? contentLength, CancellationToken ct)
    {
        if (!_signer.Verify(SignedAction.Upload, fileId, expires, signature, _time.NowMs() / 1000))
            throw ChatException.Forbidden("The upload link is invalid or has expired.");
        var record = await _files.GetFileAsync(fileId, ct) ?? throw ChatException.NotFound("File");
        if (record.Complete) throw new ChatException(ErrorCodes.Conflict, "This file has already been uploaded.");
        if (contentLength > record.Size)
            throw new ChatException(ErrorCodes.FileTooLarge, $"The body is larger than the declared file_size ({record.Size} bytes).");
        if (contentLength < record.Size)
            throw ChatException.Invalid($"The body is smaller than the declared file_size ({record.Size} bytes).");
        if (!_receiving.TryAdd(fileId, 0)) throw new ChatException(ErrorCodes.Conflict, "This file is being uploaded already.");
        try
        {
            string key = BlobKeys.Original(fileId);
            long written;
            try
            {
                written = await _blobs.WriteAsync(key, body, record.Size, record.ContentType, ct);
            }
            catch (BlobTooLargeException)
            {
                LogUploadRefused(_log, fileId, "more bytes than declared");
                throw new ChatException(ErrorCodes.FileTooLarge, $"The body is larger than the declared file_size ({record.Size} bytes).");
            }
            if (written != record.Size)
            {
                await _blobs.DeleteAsync(key, CancellationToken.None);
                LogUploadRefused(_log, fileId, "fewer bytes than declared");
                throw ChatException.Invalid($"The body is smaller than the declared file_size ({record.Size} bytes).");
            }
            bool thumb = await TryMakeThumbnailAsync(record, ct);
            await _files.MarkCompleteAsync(fileId, thumb, ct);
            LogUploadStored(_log, fileId, written, thumb);
            return record with { Complete = true, HasThumbnail = thumb };
        }
        finally
        {
            _receiving.TryRemove(fileId, out _);
        }
    }

    private async Task<bool> TryMakeThumbnailAsync(FileRecord record, CancellationToken ct)
    {
        if (!FileNames.IsRasterImage(record.ContentType) || record.Size == 0) return false;
        try
        {
            Thumbnail? thumb;
            await using (var source = await _blobs.OpenReadAsync(BlobKeys.Original(record.FileId), 0, null, ct))
            {
                if (source is null) return false;
                thumb = await _thumbnailer.CreateAsync(source, ct);
            }
            if (thumb is null)
            {
                LogNoThumbnail(_log, record.FileId);
                return false;
            }
            using var data = new MemoryStream(thumb.Data, writable: false);
            await _blobs.WriteAsync(BlobKeys.Thumbnail(record.FileId), data, thumb.Data.Length, thumb.ContentType, ct);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A bad image is not a failed upload: the file is stored, it just has no thumbnail.
            LogThumbnailFailed(_log, record.FileId, ex);
            return false;
        }
    }

    // ---- download

    /// <summary>True when a signed download or thumbnail link is valid now.</summary>
    public bool VerifyLink(SignedAction action, string fileId, long expires, string? signature) =>
        _signer.Verify(action, fileId, expires, signature, _time.NowMs() / 1000);

    /// <summary>The completed file, or null when there is none.</summary>
    public async Task<FileRecord?> GetCompleteAsync(string fileId, CancellationToken ct)
    {
        if (!IsFileId(fileId)) return null;
        if (_complete.TryGetValue(fileId, out var cached)) return cached;
        var record = await _files.GetFileAsync(fileId, ct);
        if (record is not { Complete: true }) return null;
        _complete.Set(fileId, record);
        return record;
    }

    /// <summary>The file if this user may read it (the uploader, or a member of a chat it was sent to); null otherwise.</summary>
    public async Task<FileRecord?> GetReadableAsync(string fileId, string userId, CancellationToken ct)
    {
        var record = await GetCompleteAsync(fileId, ct);
        if (record is null) return null;
        if (record.OwnerId == userId || await _files.CanReadFileAsync(fileId, userId, ct)) return record;
        return null;
    }

    public Task<Stream?> OpenAsync(FileRecord record, bool thumbnail, long offset, long? length, CancellationToken ct) =>
        _blobs.OpenReadAsync(thumbnail ? BlobKeys.Thumbnail(record.FileId) : BlobKeys.Original(record.FileId), offset, length, ct);

    // ---- IAttachments (messaging)

    public async ValueTask EnsureAttachableAsync(string fileId, string userId, CancellationToken ct)
    {
        var record = (_complete.TryGetValue(fileId, out var cached) ? cached : null)
            ?? (IsFileId(fileId) ? await _files.GetFileAsync(fileId, ct) : null)
            ?? throw ChatException.NotFound("File");
        if (record.OwnerId != userId) throw ChatException.Forbidden("Only the uploader can attach this file.");
        if (!record.Complete) throw ChatException.Invalid("The file upload is not complete.");
    }

    public async ValueTask<AttachmentInfo?> DescribeAsync(string fileId, CancellationToken ct)
    {
        var record = await GetCompleteAsync(fileId, ct);
        if (record is null) return null; // deleted meanwhile (cleanup): the message stays, without its attachment
        long expires = DownloadExpiry();
        string url = Link(fileId, "", SignedAction.Download, expires);
        string? thumb = record.HasThumbnail ? Link(fileId, "/thumbnail", SignedAction.Thumbnail, expires) : null;
        return new AttachmentInfo(fileId, record.FileName, record.ContentType, record.Size, url, thumb);
    }

    /// <summary>
    /// Download links expire Chat:Limits:DownloadUrlExpirySeconds after they are made, rounded so that links made within
    /// a quarter of that period are identical (browsers cache them); a link is valid at least ¾ of the period.
    /// </summary>
    private long DownloadExpiry()
    {
        long ttl = _chat.Limits.DownloadUrlExpirySeconds;
        long step = Math.Max(1, ttl / 4);
        return _time.NowMs() / 1000 / step * step + ttl;
    }

    /// <summary>A signed link under the node's link origin (see <see cref="ILinkOrigin"/>; "" makes it relative).</summary>
    private string Link(string fileId, string suffix, SignedAction action, long expires) =>
        $"{_links.Origin}/api/files/{fileId}{suffix}?expires={expires}&signature={_signer.Sign(action, fileId, expires)}";

    // ---- cleanup

    /// <summary>Deletes uploads created before the cutoff and never attached to a message, with their blobs.</summary>
    public async Task<int> DeleteUnattachedAsync(long createdBefore, CancellationToken ct)
    {
        var deleted = await _files.DeleteUnattachedAsync(createdBefore, ct);
        foreach (var f in deleted)
        {
            _complete.TryRemove(f.FileId);
            await _blobs.DeleteAsync(BlobKeys.Original(f.FileId), ct);
            await _blobs.DeleteAsync(BlobKeys.Thumbnail(f.FileId), ct);
        }
        if (deleted.Count > 0) LogCleanedUp(_log, deleted.Count);
        return deleted.Count;
    }

    [LoggerMessage(4001, LogLevel.Debug, "Upload link for file {FileId} issued to {UserId} ({Size} bytes, {ContentType})")]
    private static partial void LogUploadIssued(ILogger logger, string fileId, string userId, long size, string contentType);

    [LoggerMessage(4002, LogLevel.Information, "File {FileId} stored ({Size} bytes, thumbnail: {HasThumbnail})")]
    private static partial void LogUploadStored(ILogger logger, string fileId, long size, bool hasThumbnail);

    [LoggerMessage(4003, LogLevel.Information, "Upload of file {FileId} refused: {Reason}; nothing stored")]
    private static partial void LogUploadRefused(ILogger logger, string fileId, string reason);

    [LoggerMessage(4004, LogLevel.Debug, "File {FileId} is not a decodable image within the limits: no thumbnail")]
    private static partial void LogNoThumbnail(ILogger logger, string fileId);

    [LoggerMessage(4005, LogLevel.Warning, "Thumbnail of file {FileId} failed; the file is kept without one")]
    private static partial void LogThumbnailFailed(ILogger logger, string fileId, Exception ex);

    [LoggerMessage(4009, LogLevel.Information, "Upload link for {UserId} refused: {Limit} reached")]
    private static partial void LogQuotaRefused(ILogger logger, string userId, string limit);

    [LoggerMessage(4006, LogLevel.Information, "Deleted {Count} uploads that were never attached")]
    private static partial void LogCleanedUp(ILogger logger, int count);
}
