using Chat.Core.Files;
using Microsoft.Extensions.Options;
using SkiaSharp;

namespace Chat.Server.Files;

/// <summary>
/// Thumbnails with SkiaSharp (MIT; the NoDependencies native build needs no fontconfig). Hostile images are contained:
/// the header is read first and images declaring more than Chat:Files:MaxThumbnailSourcePixels are never decoded;
/// JPEGs are decoded straight at a reduced scale; at most Chat:Files:ThumbnailConcurrency decodes run at once.
/// </summary>
internal sealed class SkiaThumbnailer(IOptions<FileServiceOptions> options) : IThumbnailer, IDisposable
{
    private readonly FileServiceOptions _options = options.Value;
    private readonly SemaphoreSlim _gate = new(options.Value.ThumbnailConcurrency, options.Value.ThumbnailConcurrency);

    public async Task<Thumbnail?> CreateAsync(Stream source, CancellationToken ct)
    {
        string? spool = null;
        try
        {
            // The codec seeks; a network stream (S3) is spooled to a temp file rather than into memory.
            if (!source.CanSeek)
            {
                spool = Path.Combine(Path.GetTempPath(), "chat-thumb-" + Guid.NewGuid().ToString("N"));
                await using (var file = new FileStream(spool, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0, FileOptions.Asynchronous))
                    await source.CopyToAsync(file, BoundedCopy.BufferSize, ct);
                source = new FileStream(spool, FileMode.Open, FileAccess.Read, FileShare.Read, BoundedCopy.BufferSize);
            }
            await _gate.WaitAsync(ct);
            try
            {
                var input = source;
                return await Task.Run(() => Make(input), ct);
            }
            finally
            {
                _gate.Release();
            }
        }
        finally
        {
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
        var info = codec.Info;
        if (info.Width <= 0 || info.Height <= 0 || (long)info.Width * info.Height > _options.MaxThumbnailSourcePixels) return null;

        int max = _options.ThumbnailSize;
        float scale = Math.Min(1f, (float)max / Math.Max(info.Width, info.Height));
        // JPEG decodes at 1/2, 1/4, 1/8 for free; other formats answer their full size here.
        var decodeSize = codec.GetScaledDimensions(scale);
        if (decodeSize.Width <= 0 || decodeSize.Height <= 0) decodeSize = new SKSizeI(info.Width, info.Height);
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
}
