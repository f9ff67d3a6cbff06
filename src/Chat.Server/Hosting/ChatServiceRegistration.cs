using Chat.Backplane.Redis;
using Chat.Blobs.S3;
using Chat.Core;
using Chat.Core.Auth;
using Chat.Core.Chats;
using Chat.Core.Delivery;
using Chat.Core.Diagnostics;
using Chat.Core.Groups;
using Chat.Core.Messaging;
using Chat.Core.People;
using Chat.Core.Presence;
using Chat.Core.Reads;
using Chat.Core.Storage;
using Chat.Server.Connections;
using Chat.Server.Endpoints;
using Chat.Server.Files;
using Chat.Storage.Postgres;
using Chat.Storage.Sqlite;
using OpenTelemetry.Metrics;

namespace Chat.Server.Hosting;

/// <summary>
/// Composition of the node: options, stores, backplane, blobs, services, gateway. Each seam is registered by one
/// <c>Add…</c> method of the project that implements it (Chat.Storage.Sqlite, Chat.Storage.Postgres,
/// Chat.Backplane.Redis, Chat.Blobs.S3, Core's <see cref="LocalSeams"/>); this class only chooses among them by
/// <see cref="SeamChoice"/> (Chat:Storage, Chat:Backplane, Chat:Blobs).
/// </summary>
internal static class ChatServiceRegistration
{
    public static WebApplicationBuilder AddChat(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<ChatOptions, ChatOptionsValidator>(ChatOptions.Section);
        services.AddSingleton(TimeProvider.System);
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.ConfigureHttpJsonOptions(o =>
        {
            // Request bodies bind with the wire's snake_case names (the options decide names, not the context).
            o.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower;
            o.SerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull;
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, Chat.Protocol.ChatJson.Default);
            // As on the socket (ChatJson): "5" is not a number. The web defaults would read it as one.
            o.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict;
        });
        // Above Endpoints.ErrorMiddleware.MaxRequestTarget, so that too-long targets reach it and get a body.
        services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(o => o.Limits.MaxRequestLineSize = 64 * 1024);

        var choice = SeamChoice.Read(builder.Configuration);
        builder.AddRedactedRequestLog();
        services.AddChatStorage(choice, builder.Configuration);
        services.AddChatBackplane(choice, builder.Configuration);
        services.AddChatBlobs(choice);
        services.AddChatServices();
        services.AddChatFiles();
        services.AddChatPush();
        services.AddChatGateway();
        services.AddChatTelemetry();
        services.AddOpenApi();
        return builder;
    }

    private static void AddChatStorage(this IServiceCollection services, SeamChoice choice, IConfiguration config)
    {
        switch (choice.Storage)
        {
            case StorageProvider.Sqlite:
                services.AddSqliteChatStore(Path.Combine(choice.DataDir, "chat.db"), config.GetValue<bool>("Chat:" + nameof(ChatOptions.AcceptDataLoss)));
                break;
            case StorageProvider.Postgres:
                services.AddPostgresChatStore(SeamChoice.RequireConnectionString(config, "Postgres",
                    "Chat:Storage=postgres needs ConnectionStrings:Postgres (e.g. Host=db;Username=chat;Password=...;Database=chat)."));
                break;
        }
    }

    private static void AddChatBackplane(this IServiceCollection services, SeamChoice choice, IConfiguration config)
    {
        services.AddSingleton<ConnectionHub>();
        services.AddSingleton<ILocalDelivery>(sp => sp.GetRequiredService<ConnectionHub>());
        switch (choice.Backplane)
        {
            case BackplaneProvider.Local:
                services.AddLocalBackplane();
                services.AddLocalPresenceStore();
                services.AddLocalRateLimiter();
                services.AddLocalPushCollapse();
                break;
            case BackplaneProvider.Redis:
                string redis = SeamChoice.RequireConnectionString(config, "Redis",
                    "Chat:Backplane=redis needs ConnectionStrings:Redis (e.g. redis1:6379,redis2:6379,password=...).");
                services.AddRedisBackplane(redis);
                services.AddRedisPresenceStore(redis);
                services.AddRedisRateLimiter(redis);
                services.AddRedisPushCollapse(redis);
                break;
        }
    }

    private static void AddChatBlobs(this IServiceCollection services, SeamChoice choice)
    {
        switch (choice.Blobs)
        {
            case BlobProvider.Local:
                services.AddLocalBlobStore(Path.Combine(choice.DataDir, "files"));
                break;
            case BlobProvider.S3:
                services.AddS3BlobStore(Path.Combine(choice.DataDir, "s3-spool"));
                break;
        }
    }

    private static void AddChatServices(this IServiceCollection services)
    {
        services.AddSingleton<ChatMetrics>();
        services.AddSingleton<MembershipCache>();
        services.AddSingleton<RecentMessages>();
        services.AddSingleton<AuthService>();
        services.AddSingleton<MessageCommitter>();
        services.AddHostedService(sp => sp.GetRequiredService<MessageCommitter>());
        services.AddSingleton<MessagingService>();
        services.AddSingleton<DeliveryService>();
        services.AddHostedService(sp => sp.GetRequiredService<DeliveryService>());
        services.AddSingleton<ReadService>();
        services.AddSingleton<GroupService>();
        services.AddSingleton<HistoryService>();
        services.AddSingleton<ChatListService>();
        services.AddSingleton<MessageViews>();
        services.AddSingleton<MentionResolver>();
        services.AddSingleton<MessageActions>();
        services.AddSingleton<MessageQueries>();
        services.AddSingleton<UserDirectory>();
        services.AddSingleton<BlockService>();
        services.AddSingleton<PrivacyRules>();
        services.AddSingleton<Chat.Core.Search.SearchService>();
        services.AddSingleton<PresenceService>();
        services.AddSingleton<TypingService>();
        services.AddHostedService(sp => sp.GetRequiredService<TypingService>());
    }

    private static void AddChatGateway(this IServiceCollection services)
    {
        services.AddSingleton<GatewayServices>();
        services.AddSingleton<AuthFrameGate>();
        services.AddHostedService<IdleSweeper>();
        services.AddHostedService<ShutdownDrain>(); // registered last: stopped first
    }

    private static void AddChatTelemetry(this IServiceCollection services)
    {
        services.AddHostedService<Chat.Server.Diagnostics.ChatGauges>();
        services.AddHealthChecks().AddCheck<StoreHealthCheck>("stores").AddCheck<SpaceHealthCheck>("space");
        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddDetector(sp => ActivatorUtilities.CreateInstance<Chat.Server.Diagnostics.ServiceResource>(sp)))
            .WithMetrics(m => m
            .AddMeter(ChatMetrics.MeterName)
            .AddAspNetCoreInstrumentation()
            .AddPrometheusExporter());
    }
}

internal sealed class StoreHealthCheck(IStoreHealth store) : Microsoft.Extensions.Diagnostics.HealthChecks.IHealthCheck
{
    public async Task<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult> CheckHealthAsync(
        Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            return await store.PingAsync(cancellationToken)
                ? Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy()
                : Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Unhealthy("store ping failed");
        }
        catch (Exception ex)
        {
            return Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Unhealthy("store unreachable", ex);
        }
    }
}

/// <summary>Degraded (still 200: reads work) while the database's or the blob store's latest write failed for lack of space.</summary>
internal sealed class SpaceHealthCheck(IStoreHealth store, Chat.Core.Files.IBlobStore blobs) : Microsoft.Extensions.Diagnostics.HealthChecks.IHealthCheck
{
    public Task<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult> CheckHealthAsync(
        Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var full = new object[] { store, blobs }.OfType<ISpaceHealth>().Where(s => s.OutOfSpace).Select(s => s.SpaceName).ToList();
        return Task.FromResult(full.Count == 0
            ? Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy()
            : Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Degraded($"out of space: {string.Join(", ", full)}; writes fail until space returns"));
    }
}
