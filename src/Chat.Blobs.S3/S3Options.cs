namespace Chat.Blobs.S3;

/// <summary>The "Chat:S3" section, used when Chat:Blobs=s3; bound and checked by <see cref="S3Registration.AddS3BlobStore"/>.</summary>
public sealed class S3Options
{
    public const string Section = "Chat:S3";

    /// <summary>The endpoint (MinIO, Ceph RGW, AWS); path-style addressing is used with it.</summary>
    public string ServiceUrl { get; set; } = "";
    public string Bucket { get; set; } = "";
    /// <summary>Empty = the AWS default credential chain (environment, profile, instance role).</summary>
    public string AccessKey { get; set; } = "";
    public string SecretKey { get; set; } = "";
    public string Region { get; set; } = "us-east-1";
}
