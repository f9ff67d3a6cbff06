using Chat.Core.Files;
using Microsoft.Extensions.Options;
using SkiaSharp;

namespace Chat.Server.Files;

/// <summary>
/// Thumbnails with SkiaSharp (MIT; the NoDependencies native build needs no fontconfig). Hostile images are contained:
/// the header is read first (<see cref="SKCodec.Create(Stream, out SKCodecResult)"/> parses only the header) and an
/// image that would decode more than Chat:Files:MaxThumbnailPixels is never decoded; JPEGs are decoded straight at a
/// reduced scale; at most Chat:Files:MaxConcurrentThumbnails run at once, and the wait for a slot is bounded.
/// </summary>
internal sealed partial class SkiaThumbnailer(IOptions<FileServiceOptions> options, ILogger<SkiaThumbnailer> log) : IThumbnailer, IDisposable
{
    /// <summary>How long an upload waits for a thumbnail slot before it is stored without one.</summary>
    internal static readonly TimeSpan SlotWait = TimeSpan.FromSeconds(10);

    private readonly FileServiceOptions _options = options.Value;
    private readonly SemaphoreSlim _gate = new(options.Value.MaxConcurrentThumbnails, options.Value.MaxConcurrentThumbnails);
    // Waiting is bounded in count too: beyond this many waiters an upload gets no thumbnail at once.
    private readonly int _maxWaiting = options.Value.MaxConcurrentThumbnails * 8;
    private int _waiting;

    public async Task<Thumbnail?> CreateAsync(Stream source, CancellationToken ct)
    {
        if (Interlocked.Increment(ref _waiting) > _maxWaiting)
        {
            Interlocked.Decrement(ref _waiting);
            LogBusy(log, _options.MaxConcurrentThumbnails);
            return null;
        }
        bool entered;
        try
        {
            entered = await _gate.WaitAsync(SlotWait, ct);
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
        if (!entered)
        {
            LogBusy(log, _options.MaxConcurrentThumbnails);
            return null;
        }
        string? spool = null;
        try
        {
            // The codec seeks; a network stream (S3) is spooled to a temp file rather than into memory (inside the
            // slot, so the spools on disk are bounded too).
            if (!source.CanSeek)
            {
                spool = Path.Combine(Path.GetTempPath(), "chat-thumb-" + Guid.NewGuid().ToString("N"));
                await using (var file = new FileStream(spool, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0, FileOptions.Asynchronous))
                    await source.CopyToAsync(file, BoundedCopy.BufferSize, ct);
                source = new FileStream(spool, FileMode.Open, FileAccess.Read, FileShare.Read, BoundedCopy.BufferSize);
            }
            var input = source;
            return await Task.Run(() => Make(input), ct);
        }
        finally
        {
            _gate.Release();
            if (spool is not null)
            {
                await source.DisposeAsync();
                File.Delete(spool);
            }
        }
    }

    private Thumbnail? Make(Stream input)
    {
        using var codec = SKCodec.Create(input, out var result);
        if (codec is null || result != SKCodecResult.Success) return null;
        var info = codec.Info; // from the header: nothing is decoded yet
        if (info.Width <= 0 || info.Height <= 0) return null;

        int max = _options.ThumbnailSize;
        float scale = Math.Min(1f, (float)max / Math.Max(info.Width, info.Height));
        // JPEG decodes at 1/2, 1/4, 1/8 for free; other formats answer their full size here.
        var decodeSize = codec.GetScaledDimensions(scale);
        if (decodeSize.Width <= 0 || decodeSize.Height <= 0) decodeSize = new SKSizeI(info.Width, info.Height);
        if ((long)decodeSize.Width * decodeSize.Height > _options.MaxThumbnailPixels)
        {
            LogTooLarge(log, info.Width, info.Height, _options.MaxThumbnailPixels);
            return null;
        }
        bool opaque = info.AlphaType == SKAlphaType.Opaque;
        var decodeInfo = new SKImageInfo(decodeSize.Width, decodeSize.Height, SKColorType.Rgba8888, opaque ? SKAlphaType.Opaque : SKAlphaType.Premul);
        using var decoded = new SKBitmap(decodeInfo);
        var status = codec.GetPixels(decodeInfo, decoded.GetPixels());
        if (status is not (SKCodecResult.Success or SKCodecResult.IncompleteInput)) return null;

        int tw = Math.Max(1, (int)Math.Round(info.Width * scale));
        int th = Math.Max(1, (int)Math.Round(info.Height * scale));
        var origin = codec.EncodedOrigin;
        bool swap = origin is SKEncodedOrigin.RightTop or SKEncodedOrigin.LeftBottom or SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightBottom;
        int ow = swap ? th : tw, oh = swap ? tw : th;

        using var output = new SKBitmap(new SKImageInfo(ow, oh, SKColorType.Rgba8888, opaque ? SKAlphaType.Opaque : SKAlphaType.Premul));
        using (var canvas = new SKCanvas(output))
        {
            canvas.Clear(SKColors.Transparent);
            // Cameras store portrait photos sideways plus an EXIF orientation; browsers honour it, so the thumbnail must too.
            switch (origin)
            {
                case SKEncodedOrigin.BottomRight:
                    canvas.Translate(ow, oh);
                    canvas.RotateDegrees(180);
                    break;
                case SKEncodedOrigin.RightTop:
                    canvas.Translate(ow, 0);
                    canvas.RotateDegrees(90);
                    break;
                case SKEncodedOrigin.LeftBottom:
                    canvas.Translate(0, oh);
                    canvas.RotateDegrees(270);
                    break;
            }
            using var image = SKImage.FromBitmap(decoded);
            canvas.DrawImage(image, new SKRect(0, 0, tw, th), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear));
        }
        using var outImage = SKImage.FromBitmap(output);
        using var data = outImage.Encode(opaque ? SKEncodedImageFormat.Jpeg : SKEncodedImageFormat.Png, 82);
        if (data is null) return null;
        return new Thumbnail(data.ToArray(), opaque ? "image/jpeg" : "image/png", ow, oh);
    }

    public void Dispose() => _gate.Dispose();

    [LoggerMessage(4007, LogLevel.Information, "An image declaring {Width}×{Height} pixels would decode more than Chat:Files:MaxThumbnailPixels ({Limit}): stored without a thumbnail")]
    private static partial void LogTooLarge(ILogger logger, int width, int height, long limit);

    [LoggerMessage(4008, LogLevel.Warning, "All {Slots} thumbnail slots stayed busy: an image is stored without a thumbnail")]
    private static partial void LogBusy(ILogger logger, int slots);
}
