namespace Chat.Core.Files;

/// <summary>
/// Where file bytes live (the blob seam). Keys are ids the server made (<c>[a-z0-9.-]</c>), never user input.
/// Implementations: a local folder (default) and S3-compatible object storage. The service logic only uses these
/// four operations, so any object store with put/get-range/delete/head fits.
/// </summary>
public interface IBlobStore
{
    /// <summary>
    /// Stores the stream under <paramref name="key"/>, all or nothing: readers never see a partial blob.
    /// Throws <see cref="BlobTooLargeException"/> (and stores nothing) when the stream holds more than
    /// <paramref name="maxBytes"/>. Reads the stream once, front to back, without buffering it whole in memory.
    /// </summary>
    /// <returns>The number of bytes stored.</returns>
    Task<long> WriteAsync(string key, Stream content, long maxBytes, string contentType, CancellationToken ct);

    /// <summary>Opens the blob for reading, from <paramref name="offset"/> for <paramref name="length"/> bytes (to the end when null); null when it does not exist.</summary>
    Task<Stream?> OpenReadAsync(string key, long offset, long? length, CancellationToken ct);

    /// <summary>Deletes the blob; no error when it does not exist.</summary>
    Task DeleteAsync(string key, CancellationToken ct);

    Task<bool> ExistsAsync(string key, CancellationToken ct);
}

/// <summary>The stream held more bytes than allowed; nothing was stored.</summary>
public sealed class BlobTooLargeException(long maxBytes) : Exception($"The content is larger than {maxBytes} bytes.")
{
    public long MaxBytes { get; } = maxBytes;
}

/// <summary>Blob keys used by the file service: derived from the file id only.</summary>
public static class BlobKeys
{
    public static string Original(string fileId) => fileId;
    public static string Thumbnail(string fileId) => fileId + ".thumb";

    /// <summary>Defence in depth for stores that map keys to paths: only what <see cref="Original"/>/<see cref="Thumbnail"/> produce.</summary>
    public static bool IsValid(string key)
    {
        if (key.Length is 0 or > 64 || key[0] == '.') return false;
        foreach (char c in key)
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '-')) return false;
        return !key.Contains("..", StringComparison.Ordinal);
    }
}

/// <summary>Copies at most a given number of bytes; throws <see cref="BlobTooLargeException"/> as soon as the source holds more.</summary>
public static class BoundedCopy
{
    public const int BufferSize = 81_920; // under the large-object-heap threshold

    public static async Task<long> CopyAsync(Stream source, Stream destination, long maxBytes, CancellationToken ct)
    {
        byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            long total = 0;
            while (true)
            {
                // Ask for one byte more than the remaining allowance, so "exactly at the limit" and "over it" differ.
                int want = (int)Math.Min(buffer.Length, maxBytes - total + 1);
                int read = await source.ReadAsync(buffer.AsMemory(0, want), ct);
                if (read == 0) return total;
                total += read;
                if (total > maxBytes) throw new BlobTooLargeException(maxBytes);
                await destination.WriteAsync(buffer.AsMemory(0, read), ct);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
