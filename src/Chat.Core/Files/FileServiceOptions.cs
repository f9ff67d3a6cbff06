using System.ComponentModel.DataAnnotations;

namespace Chat.Core.Files;

/// <summary>The "Chat:Files" section: thumbnail and cleanup tuning (the limits themselves are in Chat:Limits).</summary>
public sealed class FileServiceOptions
{
    public const string Section = "Chat:Files";

    /// <summary>Longest side of a thumbnail, in pixels.</summary>
    [Range(16, 2048)]
    public int ThumbnailSize { get; set; } = 320;

    /// <summary>
    /// Pixels a thumbnail may decode, at most (each costs 4 bytes of native memory while the thumbnail is made). Checked
    /// against the dimensions in the image's header, after the codec's free down-scaling (JPEG decodes at 1/2, 1/4 or
    /// 1/8 scale; PNG, GIF and WebP at full size), before anything is decoded: a tiny file can declare a huge canvas.
    /// Beyond it the file is stored without a thumbnail. 16 Mi pixels = 4096 × 4096 = 64 MiB per decode.
    /// </summary>
    [Range(1, 268_435_456)]
    public long MaxThumbnailPixels { get; set; } = 16L * 1024 * 1024;

    /// <summary>
    /// Thumbnails made at the same time, at most. Further uploads wait for a slot a bounded time (and only a few
    /// may wait); one that gets none is stored without a thumbnail.
    /// </summary>
    [Range(1, 64)]
    public int MaxConcurrentThumbnails { get; set; } = 2;

    /// <summary>
    /// Bytes one user's files may take: completed uploads (attached ones are kept for good) plus the declared size of
    /// pending uploads whose link is still valid. An upload link that would go beyond: 413 file_too_large. 0: no quota.
    /// </summary>
    [Range(typeof(long), "0", "1000000000000000")]
    public long UserQuotaBytes { get; set; } = 1L << 30;

    /// <summary>
    /// Upload links one user may hold at once that are neither completed nor expired. One more: 429 rate_limited with
    /// retry_after_ms until the oldest expires. 0: no cap.
    /// </summary>
    [Range(0, 100_000)]
    public int MaxPendingUploads { get; set; } = 20;

    /// <summary>How often the cleanup looks for uploads never attached (they are deleted after Chat:Limits:UnattachedFileHours).</summary>
    [Range(1, 1440)]
    public double CleanupIntervalMinutes { get; set; } = 10;
}

/// <summary>A thumbnail made from an image (JPEG or PNG bytes, a few KiB).</summary>
public sealed record Thumbnail(byte[] Data, string ContentType, int Width, int Height);

/// <summary>Makes thumbnails; the imaging library lives outside Core (the server uses SkiaSharp).</summary>
public interface IThumbnailer
{
    /// <summary>A thumbnail of the image in <paramref name="source"/>, or null when it is not a decodable image within the limits.</summary>
    Task<Thumbnail?> CreateAsync(Stream source, CancellationToken ct);
}
