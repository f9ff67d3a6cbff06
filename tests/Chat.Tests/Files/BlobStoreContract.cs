using Chat.Blobs.S3;
using Chat.Core.Domain;
using Chat.Core.Files;

namespace Chat.Tests.Files;

/// <summary>
/// What every blob store must do; each implementation's test class supplies the store and runs every case.
/// (Cases are methods called from each subclass's facts, so a backend that is not configured can be skipped as a whole.)
/// </summary>
public abstract class BlobStoreContract
{
    protected abstract IBlobStore Store { get; }
    private static CancellationToken Ct => new CancellationTokenSource(FileKit.Wait).Token;

    protected async Task Writes_reads_ranges_and_deletes()
    {
        string key = Ids.NewId();
        byte[] data = FileKit.RandomBytes(300_001);
        Assert.Equal(data.Length, await Store.WriteAsync(key, new MemoryStream(data), data.Length, "application/octet-stream", Ct));
        Assert.True(await Store.ExistsAsync(key, Ct));
        Assert.Equal(data, await ReadAsync(key, 0, null));
        Assert.Equal(data.AsSpan(1000, 500).ToArray(), await ReadAsync(key, 1000, 500));
        Assert.Equal(data.AsSpan(299_000).ToArray(), await ReadAsync(key, 299_000, null));
        Assert.Equal(data.AsSpan(300_000, 1).ToArray(), await ReadAsync(key, 300_000, 1));

        await Store.DeleteAsync(key, Ct);
        Assert.False(await Store.ExistsAsync(key, Ct));
        Assert.Null(await Store.OpenReadAsync(key, 0, null, Ct));
        await Store.DeleteAsync(key, Ct); // deleting twice is fine
    }

    protected async Task Too_large_stores_nothing_and_keeps_what_was_there()
    {
        string key = Ids.NewId();
        var ex = await Assert.ThrowsAsync<BlobTooLargeException>(() => Store.WriteAsync(key, new MemoryStream(FileKit.RandomBytes(1001)), 1000, "text/plain", Ct));
        Assert.Equal(1000, ex.MaxBytes);
        Assert.False(await Store.ExistsAsync(key, Ct));

        byte[] v1 = FileKit.RandomBytes(100, seed: 7);
        await Store.WriteAsync(key, new MemoryStream(v1), 100, "text/plain", Ct);
        await Assert.ThrowsAsync<BlobTooLargeException>(() => Store.WriteAsync(key, new MemoryStream(FileKit.RandomBytes(101)), 100, "text/plain", Ct));
        Assert.Equal(v1, await ReadAsync(key, 0, null));
        await Store.DeleteAsync(key, Ct);
    }

    protected async Task Exactly_the_limit_and_empty_blobs_are_fine_and_overwrite_replaces()
    {
        string key = Ids.NewId();
        await Store.WriteAsync(key, new MemoryStream(FileKit.RandomBytes(1000)), 1000, "text/plain", Ct);
        byte[] v2 = FileKit.RandomBytes(10, seed: 9);
        await Store.WriteAsync(key, new MemoryStream(v2), 1000, "text/plain", Ct);
        Assert.Equal(v2, await ReadAsync(key, 0, null));

        string empty = BlobKeys.Thumbnail(Ids.NewId());
        Assert.Equal(0, await Store.WriteAsync(empty, new MemoryStream(), 0, "text/plain", Ct));
        Assert.True(await Store.ExistsAsync(empty, Ct));
        Assert.Empty(await ReadAsync(empty, 0, null));
        await Store.DeleteAsync(key, Ct);
        await Store.DeleteAsync(empty, Ct);
    }

    protected async Task Missing_blobs_are_null_not_errors()
    {
        string key = Ids.NewId();
        Assert.False(await Store.ExistsAsync(key, Ct));
        Assert.Null(await Store.OpenReadAsync(key, 0, null, Ct));
        Assert.Null(await Store.OpenReadAsync(key, 10, 10, Ct));
    }

    private async Task<byte[]> ReadAsync(string key, long offset, long? length)
    {
        await using var s = await Store.OpenReadAsync(key, offset, length, Ct);
        Assert.NotNull(s);
        using var ms = new MemoryStream();
        await s.CopyToAsync(ms, Ct);
        return ms.ToArray();
    }
}

public sealed class LocalBlobStoreTests : BlobStoreContract, IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "chat-tests", "blobs-" + Guid.NewGuid().ToString("N"));
    private readonly LocalBlobStore _store;

    public LocalBlobStoreTests() => _store = new LocalBlobStore(_dir);
    protected override IBlobStore Store => _store;

    [Fact] public Task Writes_reads_ranges_and_deletes_() => Writes_reads_ranges_and_deletes();
    [Fact] public Task Too_large_stores_nothing_and_keeps_what_was_there_() => Too_large_stores_nothing_and_keeps_what_was_there();
    [Fact] public Task Exactly_the_limit_and_empty_blobs_are_fine_and_overwrite_replaces_() => Exactly_the_limit_and_empty_blobs_are_fine_and_overwrite_replaces();
    [Fact] public Task Missing_blobs_are_null_not_errors_() => Missing_blobs_are_null_not_errors();

    [Fact]
    public async Task Keys_that_could_be_paths_are_refused_and_refused_writes_leave_no_temp_files()
    {
        foreach (string key in new[] { "../x", "a/b", ".hidden", "", "UPPER", "a..b" })
            await Assert.ThrowsAsync<ArgumentException>(() => _store.WriteAsync(key, new MemoryStream([1]), 10, "text/plain", CancellationToken.None));
        await Assert.ThrowsAsync<BlobTooLargeException>(() => _store.WriteAsync(Ids.NewId(), new MemoryStream(new byte[11]), 10, "text/plain", CancellationToken.None));
        Assert.Empty(Directory.EnumerateFiles(_store.TempFolder));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>The same contract against a real S3-compatible server (CHAT_S3: s3rver started by tools/services.sh).</summary>
public sealed class S3BlobStoreTests : BlobStoreContract, IDisposable
{
    private readonly S3BlobStore? _store;
    private readonly string _spool = Path.Combine(Path.GetTempPath(), "chat-tests", "s3spool-" + Guid.NewGuid().ToString("N"));

    public S3BlobStoreTests()
    {
        if (S3TestBucket.SkipReason is null) _store = new S3BlobStore(S3TestBucket.Options(), _spool);
    }

    protected override IBlobStore Store => _store ?? throw new InvalidOperationException(S3TestBucket.Missing);

    [S3Fact] public Task Writes_reads_ranges_and_deletes_() => Writes_reads_ranges_and_deletes();
    [S3Fact] public Task Too_large_stores_nothing_and_keeps_what_was_there_() => Too_large_stores_nothing_and_keeps_what_was_there();
    [S3Fact] public Task Exactly_the_limit_and_empty_blobs_are_fine_and_overwrite_replaces_() => Exactly_the_limit_and_empty_blobs_are_fine_and_overwrite_replaces();
    [S3Fact] public Task Missing_blobs_are_null_not_errors_() => Missing_blobs_are_null_not_errors();

    [S3Fact]
    public async Task Spooled_uploads_leave_nothing_behind()
    {
        await Store.WriteAsync(Ids.NewId(), new MemoryStream(new byte[100]), 100, "text/plain", CancellationToken.None);
        await Assert.ThrowsAsync<BlobTooLargeException>(() => Store.WriteAsync(Ids.NewId(), new MemoryStream(new byte[11]), 10, "text/plain", CancellationToken.None));
        Assert.Empty(Directory.EnumerateFiles(_spool));
    }

    public void Dispose()
    {
        _store?.Dispose();
        try
        {
            Directory.Delete(_spool, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>
/// The S3-compatible server the tests use: CHAT_S3 (endpoint), CHAT_S3_BUCKET (default chat-uploads), CHAT_S3_KEY /
/// CHAT_S3_SECRET (default S3RVER/S3RVER). Unset locally: skipped; in CI (CI=true): the tests run and fail.
/// </summary>
public static class S3TestBucket
{
    public const string EnvVar = "CHAT_S3";
    public const string Missing = "CHAT_S3 is not set but S3 tests must run here (CI=true).";

    private static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static string? SkipReason =>
        string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(EnvVar)) && !InCi
            ? $"{EnvVar} is not set (start the backends with: eval \"$(tools/services.sh start)\")"
            : null;

    public static S3Options Options() => new()
    {
        ServiceUrl = Environment.GetEnvironmentVariable(EnvVar) is { Length: > 0 } url ? url : throw new InvalidOperationException(Missing),
        Bucket = Env("CHAT_S3_BUCKET", "chat-uploads"),
        AccessKey = Env("CHAT_S3_KEY", "S3RVER"),
        SecretKey = Env("CHAT_S3_SECRET", "S3RVER"),
    };

    /// <summary>Server settings for Chat:Blobs=s3 against the test bucket.</summary>
    public static (string, string)[] ServerSettings()
    {
        var o = Options();
        return [("Chat:Blobs", "s3"), ("Chat:S3:ServiceUrl", o.ServiceUrl), ("Chat:S3:Bucket", o.Bucket), ("Chat:S3:AccessKey", o.AccessKey), ("Chat:S3:SecretKey", o.SecretKey)];
    }

    private static string Env(string name, string fallback) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : fallback;
}

/// <summary>A fact that needs the S3-compatible server: skipped locally without CHAT_S3, run (and failing) in CI.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class S3FactAttribute : FactAttribute
{
    public S3FactAttribute()
    {
        if (S3TestBucket.SkipReason is { } reason) Skip = reason;
    }
}
