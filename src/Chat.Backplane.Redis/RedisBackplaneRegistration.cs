using Chat.Core;
using Chat.Core.Delivery;
using Chat.Core.Messaging;
using Chat.Core.Notifications;
using Chat.Core.Presence;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Chat.Backplane.Redis;

/// <summary>
/// The cluster seams in Redis, one registration method each. They share the node's one <see cref="RedisConnection"/>
/// (one Redis per node: the first connection string registered is the one used) and bind and check
/// <see cref="RedisBackplaneOptions"/> ("Chat:Redis") at start-up.
/// </summary>
public static class RedisBackplaneRegistration
{
    /// <summary>
    /// Routing and pub/sub between nodes. Needs <see cref="ConnectionHub"/> registered (the node's local devices); it
    /// refreshes the node's presence entries, so it registers the Redis presence store's implementation as well.
    /// </summary>
    public static IServiceCollection AddRedisBackplane(this IServiceCollection services, string connectionString)
    {
        services.AddRedisConnection(connectionString);
        services.TryAddSingleton<RedisPresenceStore>();
        services.AddSingleton<RedisBackplane>();
        services.AddSingleton<IBackplane>(sp => sp.GetRequiredService<RedisBackplane>());
        services.AddHostedService(sp => sp.GetRequiredService<RedisBackplane>());
        return services;
    }

    /// <summary>Presence with TTLs, shared by all nodes (a dead node's devices stop counting by themselves).</summary>
    public static IServiceCollection AddRedisPresenceStore(this IServiceCollection services, string connectionString)
    {
        services.AddRedisConnection(connectionString);
        services.TryAddSingleton<RedisPresenceStore>();
        services.AddSingleton<IPresenceStore>(sp => sp.GetRequiredService<RedisPresenceStore>());
        return services;
    }

    /// <summary>The per-user message rate limit, shared by all nodes.</summary>
    public static IServiceCollection AddRedisRateLimiter(this IServiceCollection services, string connectionString)
    {
        services.AddRedisConnection(connectionString);
        services.AddSingleton<IRateLimiter, RedisRateLimiter>();
        return services;
    }

    /// <summary>The push collapse window per (device, chat), shared by all nodes.</summary>
    public static IServiceCollection AddRedisPushCollapse(this IServiceCollection services, string connectionString)
    {
        services.AddRedisConnection(connectionString);
        services.AddSingleton<IPushCollapse, RedisPushCollapse>();
        return services;
    }

    private static void AddRedisConnection(this IServiceCollection services, string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        if (services.Any(d => d.ServiceType == typeof(RedisConnection))) return;
        services.AddValidatedOptions<RedisBackplaneOptions, RedisBackplaneOptionsValidator>(RedisBackplaneOptions.Section)
            .Validate(o => o.RefreshSeconds < o.EntryTtlSeconds, "Chat:Redis:RefreshSeconds must be below Chat:Redis:EntryTtlSeconds.");
        services.AddSingleton(sp => new RedisConnection(connectionString,
            sp.GetRequiredService<IOptions<RedisBackplaneOptions>>(), sp.GetRequiredService<ILogger<RedisConnection>>()));
    }
}

/// <summary>The start-up check of <see cref="RedisBackplaneOptions"/>, generated from its attributes.</summary>
[OptionsValidator]
public sealed partial class RedisBackplaneOptionsValidator : IValidateOptions<RedisBackplaneOptions>;
