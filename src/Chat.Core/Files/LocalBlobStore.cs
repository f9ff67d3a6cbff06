using Chat.Core.Storage;

namespace Chat.Core.Files;

/// <summary>
/// Blobs as files under one folder (by default <c>{Chat:DataDir}/files</c>): <c>{root}/{shard}/{key}</c>, where the
/// shard is the last two hex digits of the file id (the random end of a v7 id) so no folder grows without bound.
/// Writes go to <c>{root}/.tmp</c> first, are fsynced, then renamed into place: a crash or a refused upload never
/// leaves a partial blob under its key.
/// </summary>
public sealed class LocalBlobStore : IBlobStore, ISpaceHealth
{
    private readonly StorageSpace _space = new();
    private readonly string _root;
    private readonly string _tmp;

    public LocalBlobStore(string root)
    {
        _root = Path.GetFullPath(root);
        _tmp = Path.Combine(_root, ".tmp");
        Directory.CreateDirectory(_tmp);
    }

    public string Root => _root;

    public string SpaceName => "blob store";

    public bool OutOfSpace => _space.OutOfSpace;

    /// <summary>The temp folder; files left there by a crash are removed by <see cref="DeleteStaleTempFiles"/>.</summary>
    public string TempFolder => _tmp;

    public async Task<long> WriteAsync(string key, Stream content, long maxBytes, string contentType, CancellationToken ct)
    {
        string final = PathOf(key);
        string temp = Path.Combine(_tmp, Guid.NewGuid().ToString("N") + ".part");
        try
        {
            long written;
            await using (var file = new FileStream(temp, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
                BufferSize = 0,
            }))
            {
                written = await BoundedCopy.CopyAsync(content, file, maxBytes, ct);
                file.Flush(flushToDisk: true); // durable before it becomes visible under its key
            }
            Directory.CreateDirectory(Path.GetDirectoryName(final)!);
            File.Move(temp, final, overwrite: true);
            _space.Written();
            return written;
        }
        catch (Exception ex) when (StorageSpace.IsDiskFull(ex))
        {
            TryDelete(temp);
            _space.Failed();
            throw new StorageFullException("blob store", ex);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    public Task<Stream?> OpenReadAsync(string key, long offset, long? length, CancellationToken ct)
    {
        FileStream file;
        try
        {
            file = new FileStream(PathOf(key), new FileStreamOptions
            {
                Mode = FileMode.Open,
                Access = FileAccess.Read,
                Share = FileShare.Read | FileShare.Delete,
                Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
                BufferSize = 0,
            });
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
        if (offset > 0) file.Seek(offset, SeekOrigin.Begin);
        Stream result = length is { } n ? new SliceStream(file, n) : file;
        return Task.FromResult<Stream?>(result);
    }

    public Task DeleteAsync(string key, CancellationToken ct)
    {
        TryDelete(PathOf(key));
        return Task.CompletedTask;
    }

    public Task<bool> ExistsAsync(string key, CancellationToken ct) => Task.FromResult(File.Exists(PathOf(key)));

    /// <summary>Removes temp files older than <paramref name="age"/> (uploads cut off by a crash).</summary>
    public int DeleteStaleTempFiles(TimeSpan age)
    {
        int n = 0;
        DateTime cutoff = DateTime.UtcNow - age;
        foreach (string f in Directory.EnumerateFiles(_tmp, "*.part"))
        {
            if (File.GetLastWriteTimeUtc(f) < cutoff && TryDelete(f)) n++;
        }
        return n;
    }

    private string PathOf(string key)
    {
        if (!BlobKeys.IsValid(key)) throw new ArgumentException($"Invalid blob key '{key}'.", nameof(key));
        int dot = key.IndexOf('.', StringComparison.Ordinal);
        string stem = dot < 0 ? key : key[..dot];
        string shard = stem.Length >= 2 ? stem[^2..] : "00";
        return Path.Combine(_root, shard, key);
    }

    private static bool TryDelete(string path)
    {
        try
        {
            File.Delete(path);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}

/// <summary>A read-only window of <c>length</c> bytes from the current position of an inner stream (which it owns).</summary>
public sealed class SliceStream(Stream inner, long length) : Stream
{
    private readonly long _length = length;
    private long _remaining = length;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => _length;
    public override long Position { get => _length - _remaining; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_remaining <= 0) return 0;
        int n = inner.Read(buffer[..(int)Math.Min(buffer.Length, _remaining)]);
        _remaining -= n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_remaining <= 0) return 0;
        int n = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _remaining)], cancellationToken);
        _remaining -= n;
        return n;
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync();
        await base.DisposeAsync();
    }
}
