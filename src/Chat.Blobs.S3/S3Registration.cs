using Chat.Core.Files;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Chat.Blobs.S3;

public static class S3Registration
{
    /// <summary>
    /// Blobs in the bucket of Chat:S3 (bound here, checked at start-up); uploads are spooled under
    /// <paramref name="spoolDir"/> before they are sent.
    /// </summary>
    public static IServiceCollection AddS3BlobStore(this IServiceCollection services, string spoolDir)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(spoolDir);
        services.AddOptions<S3Options>()
            .BindConfiguration(S3Options.Section)
            .Validate(o => o.ServiceUrl.Length > 0 && o.Bucket.Length > 0, "Chat:Blobs=s3 needs Chat:S3:ServiceUrl and Chat:S3:Bucket.")
            .ValidateOnStart();
        services.AddSingleton<IBlobStore>(sp => new S3BlobStore(sp.GetRequiredService<IOptions<S3Options>>().Value, spoolDir));
        return services;
    }
}
