using Chat.Core;
using Chat.Core.Files;
using Microsoft.Extensions.DependencyInjection;

namespace Chat.Blobs.S3;

public static class S3Registration
{
    /// <summary>Blobs in the bucket of Chat:S3; uploads are spooled under <paramref name="spoolDir"/> before they are sent.</summary>
    public static IServiceCollection AddS3BlobStore(this IServiceCollection services, S3Options options, string spoolDir)
    {
        services.AddSingleton<IBlobStore>(_ => new S3BlobStore(options, spoolDir));
        return services;
    }
}
