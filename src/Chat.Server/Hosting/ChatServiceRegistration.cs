using Chat.Backplane.Redis;
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
using Chat.Server.Files;
using Chat.Storage.Postgres;
using Chat.Storage.Sqlite;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;

namespace Chat.Server.Hosting;

/// <summary>Composition of the node: options, stores, backplane, services, gateway. One method per seam.</summary>
internal static class ChatServiceRegistration
{
    public static WebApplicationBuilder AddChat(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ChatOptions>().BindConfiguration(ChatOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<ChatOptions>, ChatOptionsValidator>();
        services.AddSingleton(TimeProvider.System);
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.ConfigureHttpJsonOptions(o =>
        {
            // Request bodies bind with the wire's snake_case names (the options decide names, not the context).
            o.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower;
            o.SerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull;
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, Chat.Protocol.ChatJson.Default);
        });

        var chat = builder.Configuration.GetSection(ChatOptions.Section).Get<ChatOptions>() ?? new ChatOptions();
        services.AddChatStorage(chat, builder.Configuration);
        services.AddChatBackplane(chat, builder.Configuration);
        services.AddChatServices();
        services.AddChatFiles(chat);
        services.AddChatGateway();
        services.AddChatTelemetry();
        return builder;
    }

    private static void AddChatStorage(this IServiceCollection services, ChatOptions chat, IConfiguration config)
    {
        switch (chat.Storage)
        {
            case "sqlite":
                services.AddSqliteChatStore(Path.Combine(chat.DataDir, "chat.db"));
                break;
            case "postgres":
                string? pg = config.GetConnectionString("Postgres");
                if (string.IsNullOrWhiteSpace(pg))
                    throw new OptionsValidationException(ChatOptions.Section, typeof(ChatOptions),
                        ["Chat:Storage=postgres needs ConnectionStrings:Postgres (e.g. Host=db;Username=chat;Password=...;Database=chat)."]);
                services.AddPostgresChatStore(pg);
                break;
            default:
                throw new OptionsValidationException(ChatOptions.Section, typeof(ChatOptions),
                    [$"Chat:Storage '{chat.Storage}' is not available in this build."]);
        }
    }

    private static void AddChatBackplane(this IServiceCollection services, ChatOptions chat, IConfiguration config)
    {
        services.AddSingleton<ConnectionHub>();
        services.AddSingleton<ILocalDelivery>(sp => sp.GetRequiredService<ConnectionHub>());
        switch (chat.Backplane)
        {
            case "local":
                services.AddSingleton<IBackplane, LocalBackplane>();
                services.AddSingleton<IPresenceStore, LocalPresenceStore>();
                services.AddSingleton<IRateLimiter, LocalRateLimiter>();
                break;
            case "redis":
                string? redis = config.GetConnectionString("Redis");
                if (string.IsNullOrWhiteSpace(redis))
                    throw new OptionsValidationException(ChatOptions.Section, typeof(ChatOptions),
                        ["Chat:Backplane=redis needs ConnectionStrings:Redis (e.g. redis1:6379,redis2:6379,password=...)."]);
                services.AddOptions<RedisBackplaneOptions>().BindConfiguration(RedisBackplaneOptions.Section).ValidateOnStart();
                services.AddRedisBackplane(redis);
                break;
            default:
                throw new OptionsValidationException(ChatOptions.Section, typeof(ChatOptions),
                    [$"Chat:Backplane '{chat.Backplane}' is not available in this build."]);
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
        services.AddSingleton<UserDirectory>();
        services.AddSingleton<PresenceService>();
        services.AddSingleton<TypingService>();
        services.AddHostedService(sp => sp.GetRequiredService<TypingService>());
    }

    private static void AddChatGateway(this IServiceCollection services)
    {
        services.AddSingleton<GatewayServices>();
        services.AddHostedService<IdleSweeper>();
        services.AddHostedService<ShutdownDrain>(); // registered last: stopped first
    }

    private static void AddChatTelemetry(this IServiceCollection services)
    {
        services.AddHostedService<Chat.Server.Diagnostics.ChatGauges>();
        services.AddHealthChecks().AddCheck<StoreHealthCheck>("stores");
        services.AddOpenTelemetry().WithMetrics(m => m
            .AddMeter(ChatMetrics.MeterName)
            .AddAspNetCoreInstrumentation()
            .AddPrometheusExporter());
    }
}

internal static class SqliteRegistration
{
    public static IServiceCollection AddSqliteChatStore(this IServiceCollection services, string databasePath)
    {
        services.AddSingleton(_ => new SqliteChatStore(databasePath));
        services.AddSingleton<IUserStore>(sp => sp.GetRequiredService<SqliteChatStore>());
        services.AddSingleton<IGroupStore>(sp => sp.GetRequiredService<SqliteChatStore>());
        services.AddSingleton<IMessageStore>(sp => sp.GetRequiredService<SqliteChatStore>());
        services.AddSingleton<IPointerStore>(sp => sp.GetRequiredService<SqliteChatStore>());
        services.AddSingleton<IFileStore>(sp => sp.GetRequiredService<SqliteChatStore>());
        services.AddSingleton<IStoreHealth>(sp => sp.GetRequiredService<SqliteChatStore>());
        return services;
    }
}

/// <summary>Cross-field checks the attributes cannot express, with messages that say what to change.</summary>
internal sealed class ChatOptionsValidator : IValidateOptions<ChatOptions>
{
    public ValidateOptionsResult Validate(string? name, ChatOptions o)
    {
        var errors = new List<string>();
        if (o.Blobs == "s3" && (string.IsNullOrEmpty(o.S3.ServiceUrl) || string.IsNullOrEmpty(o.S3.Bucket)))
            errors.Add("Chat:Blobs=s3 needs Chat:S3:ServiceUrl and Chat:S3:Bucket.");
        if (o.PublicUrl.Length > 0 && !Uri.TryCreate(o.PublicUrl, UriKind.Absolute, out _))
            errors.Add("Chat:PublicUrl must be an absolute URL such as https://chat.example.com.");
        if (o.Backplane == "redis" && o.Blobs == "local" && !o.BlobsShared)
            errors.Add("A cluster (Chat:Backplane=redis) with Chat:Blobs=local needs a folder all nodes share: set Chat:BlobsShared=true if Chat:DataDir is shared, or use Chat:Blobs=s3.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
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
