using System.ComponentModel.DataAnnotations;

namespace Chat.Core.Files;

/// <summary>The "Chat:Files" section: thumbnail and cleanup tuning (the limits themselves are in Chat:Limits).</summary>
public sealed class FileServiceOptions
{
    public const string Section = "Chat:Files";

    /// <summary>Longest side of a thumbnail, in pixels.</summary>
    [Range(16, 2048)]
    public int ThumbnailSize { get; set; } = 320;

    /// <summary>Images whose header declares more pixels than this are not decoded (no thumbnail): a tiny hostile file can declare a huge canvas.</summary>
    [Range(1, 1_000_000_000)]
    public long MaxThumbnailSourcePixels { get; set; } = 40_000_000;

    /// <summary>Thumbnails made at the same time, at most (each decode may hold width × height × 4 bytes).</summary>
    [Range(1, 64)]
    public int ThumbnailConcurrency { get; set; } = 2;

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
