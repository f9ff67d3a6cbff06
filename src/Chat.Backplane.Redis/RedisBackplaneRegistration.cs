using System.ComponentModel.DataAnnotations;
using Chat.Core.Delivery;
using Chat.Core.Messaging;
using Chat.Core.Presence;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Chat.Backplane.Redis;

public static class RedisBackplaneRegistration
{
    /// <summary>
    /// The cluster backplane: routing and pub/sub between nodes, presence with TTLs and the shared rate limit, all in
    /// Redis. Needs <see cref="ConnectionHub"/> registered (the node's local devices). The host binds
    /// <see cref="RedisBackplaneOptions"/> (section "Chat:Redis") and validates them at start-up.
    /// </summary>
    public static IServiceCollection AddRedisBackplane(this IServiceCollection services, string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        services.AddOptions<RedisBackplaneOptions>().Validate(
            o => Validator.TryValidateObject(o, new ValidationContext(o), null, validateAllProperties: true) && o.RefreshSeconds < o.EntryTtlSeconds,
            "Chat:Redis settings are out of range (RefreshSeconds must also be below EntryTtlSeconds).");
        services.AddSingleton(sp => new RedisConnection(connectionString,
            sp.GetRequiredService<IOptions<RedisBackplaneOptions>>(), sp.GetRequiredService<ILogger<RedisConnection>>()));
        services.AddSingleton<RedisBackplane>();
        services.AddSingleton<IBackplane>(sp => sp.GetRequiredService<RedisBackplane>());
        services.AddHostedService(sp => sp.GetRequiredService<RedisBackplane>());
        services.AddSingleton<RedisPresenceStore>();
        services.AddSingleton<IPresenceStore>(sp => sp.GetRequiredService<RedisPresenceStore>());
        services.AddSingleton<IRateLimiter, RedisRateLimiter>();
        return services;
    }
}
