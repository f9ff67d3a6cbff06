using System.Net;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Chat.Core.Files;

namespace Chat.Blobs.S3;

/// <summary>
/// Blobs in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, s3rver in tests). Every node of a cluster sees the same
/// files. An upload is first spooled to a local temp file (bounded memory, size limit enforced while reading), then
/// sent with one PUT: S3 needs the length and a payload hash before the first byte, and an object only appears when
/// the PUT completes, so a refused or broken upload never leaves a partial object.
/// </summary>
public sealed class S3BlobStore : IBlobStore, IDisposable
{
    private readonly IAmazonS3 _s3;
    private readonly string _bucket;
    private readonly string _spoolDir;

    public S3BlobStore(S3Options options, string spoolDir)
    {
        if (string.IsNullOrEmpty(options.Bucket)) throw new ArgumentException("Chat:S3:Bucket is required.", nameof(options));
        _bucket = options.Bucket;
        _spoolDir = spoolDir;
        Directory.CreateDirectory(_spoolDir);
        var config = new AmazonS3Config
        {
            // Custom endpoints (MinIO, s3rver, Ceph) generally need path-style addressing: http://host/bucket/key.
            ForcePathStyle = options.ServiceUrl.Length > 0,
            AuthenticationRegion = options.Region,
            // Trailing checksums need aws-chunked encoding, which not every S3-compatible server understands.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (options.ServiceUrl.Length > 0) config.ServiceURL = options.ServiceUrl;
        else config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
        _s3 = options.AccessKey.Length > 0
            ? new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config)
            : new AmazonS3Client(config); // the default chain: environment, profile, instance role
    }

    public async Task<long> WriteAsync(string key, Stream content, long maxBytes, string contentType, CancellationToken ct)
    {
        string spool = Path.Combine(_spoolDir, Guid.NewGuid().ToString("N") + ".s3part");
        try
        {
            long written;
            await using (var file = new FileStream(spool, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0, FileOptions.Asynchronous | FileOptions.SequentialScan))
                written = await BoundedCopy.CopyAsync(content, file, maxBytes, ct);
            await using (var file = new FileStream(spool, FileMode.Open, FileAccess.Read, FileShare.Read, BoundedCopy.BufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan))
            {
                await _s3.PutObjectAsync(new PutObjectRequest
                {
                    BucketName = _bucket,
                    Key = key,
                    InputStream = file,
                    AutoCloseStream = false,
                    ContentType = contentType,
                    UseChunkEncoding = false, // s3rver (and some others) would store aws-chunked framing verbatim
                }, ct);
            }
            return written;
        }
        finally
        {
            try
            {
                File.Delete(spool);
            }
            catch (IOException)
            {
            }
        }
    }

    public async Task<Stream?> OpenReadAsync(string key, long offset, long? length, CancellationToken ct)
    {
        var req = new GetObjectRequest { BucketName = _bucket, Key = key };
        if (offset > 0 || length is not null)
        {
            if (length == 0) return await EmptyIfExistsAsync(key, ct);
            req.ByteRange = length is { } n ? new ByteRange(offset, offset + n - 1) : new ByteRange($"bytes={offset}-");
        }
        try
        {
            var res = await _s3.GetObjectAsync(req, ct);
            return new ResponseStream(res);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    private async Task<Stream?> EmptyIfExistsAsync(string key, CancellationToken ct) =>
        await ExistsAsync(key, ct) ? new MemoryStream([], writable: false) : null;

    public async Task DeleteAsync(string key, CancellationToken ct)
    {
        try
        {
            await _s3.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _bucket, Key = key }, ct);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
        }
    }

    public async Task<bool> ExistsAsync(string key, CancellationToken ct)
    {
        try
        {
            await _s3.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _bucket, Key = key }, ct);
            return true;
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    public void Dispose() => _s3.Dispose();

    /// <summary>The object's body; disposing it releases the HTTP response.</summary>
    private sealed class ResponseStream(GetObjectResponse response) : Stream
    {
        private readonly Stream _inner = response.ResponseStream;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => response.ContentLength;
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);
        public override int Read(Span<byte> buffer) => _inner.Read(buffer);
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _inner.ReadAsync(buffer, offset, count, cancellationToken);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _inner.ReadAsync(buffer, cancellationToken);
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) response.Dispose();
            base.Dispose(disposing);
        }
    }
}
