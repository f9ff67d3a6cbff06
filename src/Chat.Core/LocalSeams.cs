using Chat.Core.Delivery;
using Chat.Core.Files;
using Chat.Core.Messaging;
using Chat.Core.Notifications;
using Chat.Core.Presence;
using Microsoft.Extensions.DependencyInjection;

namespace Chat.Core;

/// <summary>
/// The single-node implementations of the seams, one registration method per seam like the adapters'
/// (<c>AddRedisBackplane</c>, <c>AddS3BlobStore</c>, ...). The host chooses between them (Chat:Backplane, Chat:Blobs).
/// </summary>
public static class LocalSeams
{
    /// <summary>Events go to this node's devices only. Needs <see cref="ILocalDelivery"/> (the node's <see cref="ConnectionHub"/>).</summary>
    public static IServiceCollection AddLocalBackplane(this IServiceCollection services) =>
        services.AddSingleton<IBackplane, LocalBackplane>();

    public static IServiceCollection AddLocalPresenceStore(this IServiceCollection services) =>
        services.AddSingleton<IPresenceStore, LocalPresenceStore>();

    public static IServiceCollection AddLocalRateLimiter(this IServiceCollection services) =>
        services.AddSingleton<IRateLimiter, LocalRateLimiter>();

    public static IServiceCollection AddLocalPushCollapse(this IServiceCollection services) =>
        services.AddSingleton<IPushCollapse, LocalPushCollapse>();

    /// <summary>Blobs as files under <paramref name="root"/>.</summary>
    public static IServiceCollection AddLocalBlobStore(this IServiceCollection services, string root) =>
        services.AddSingleton<IBlobStore>(_ => new LocalBlobStore(root));
}
