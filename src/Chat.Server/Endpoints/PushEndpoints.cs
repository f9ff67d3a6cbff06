using Chat.Core;
using Chat.Core.Domain;
using Chat.Core.Notifications;
using Chat.Protocol;
using Chat.Server.Push;
using Microsoft.Extensions.Options;

namespace Chat.Server.Endpoints;

/// <summary>
/// Notifications over HTTP (PROTOCOL.md v1.1 "Notifications", docs/push.md): per-chat settings, the VAPID public key,
/// push subscriptions. Composition: <see cref="AddChatPush"/>.
/// </summary>
internal static partial class PushEndpoints
{
    public static IServiceCollection AddChatPush(this IServiceCollection services)
    {
        services.AddSingleton(sp =>
        {
            var chat = sp.GetRequiredService<IOptions<ChatOptions>>().Value;
            bool generate = chat.Push.VapidPublicKey.Length == 0 && !File.Exists(Path.Combine(chat.DataDir, VapidKeys.FileName));
            var keys = VapidKeys.Load(chat.Push, chat.DataDir);
            var log = sp.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(PushEndpoints).FullName!);
            if (chat.Push.VapidPublicKey.Length == 0 && chat.Backplane != BackplaneProvider.Local)
                LogPerNodeKeys(log, Path.Combine(chat.DataDir, VapidKeys.FileName));
            else if (generate)
                LogKeysGenerated(log, Path.Combine(chat.DataDir, VapidKeys.FileName));
            return keys;
        });
        services.AddSingleton<IPushSender, WebPushSender>();
        services.AddSingleton<PushDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<PushDispatcher>());
        services.AddSingleton<NotificationSettingsService>();
        services.AddSingleton<PushSubscriptionService>();
        return services;
    }

    /// <summary>Mapped on the authenticated /api group.</summary>
    public static void MapPushApi(this RouteGroupBuilder authed)
    {
        var json = ChatJson.Default;
        authed.MapGet("/chats/{chatId}/settings", async (string chatId, HttpContext http, NotificationSettingsService settings, CancellationToken ct) =>
            Results.Json(await settings.GetAsync(new UserId(Http.User(http).UserId), chatId, ct), json.ChatSettingsDto))
            .Returns<ChatSettingsDto>("The caller's notification settings for a chat.", errors: 404);
        authed.MapPut("/chats/{chatId}/settings", async (string chatId, ChatSettingsDto? req, HttpContext http, NotificationSettingsService settings, CancellationToken ct) =>
            Results.Json(await settings.SetAsync(new UserId(Http.User(http).UserId), chatId, req, ct), json.ChatSettingsDto))
            .Returns<ChatSettingsDto>("Changes the caller's notification settings for a chat.", errors: [400, 404]);

        authed.MapGet("/push/vapid-public-key", (VapidKeys keys) => Results.Json(new VapidPublicKeyResponse(keys.PublicKey), json.VapidPublicKeyResponse))
            .Returns<VapidPublicKeyResponse>("The server's VAPID public key for Web Push subscriptions.");
        authed.MapPost("/push/subscriptions", async (PushSubscriptionRequest? req, HttpContext http, PushSubscriptionService subs, CancellationToken ct) =>
        {
            await subs.SubscribeAsync(Http.User(http), req, ct);
            return Results.StatusCode(StatusCodes.Status201Created);
        }).ReturnsNothing("Subscribes the calling device to Web Push.", 201, 400);
        authed.MapDelete("/push/subscriptions", async (HttpContext http, PushSubscriptionService subs, CancellationToken ct) =>
        {
            await subs.UnsubscribeAsync(Http.User(http), ct);
            return Results.NoContent();
        }).ReturnsNothing("Removes the calling device's push subscription.");
    }

    [LoggerMessage(4101, LogLevel.Information, "Generated a VAPID key pair into {Path} (keep it: browsers' push subscriptions are bound to it)")]
    private static partial void LogKeysGenerated(ILogger logger, string path);

    [LoggerMessage(4102, LogLevel.Warning, "VAPID keys come from this node's {Path}: in a cluster set Chat:Push:VapidPublicKey/VapidPrivateKey on every node, or pushes for subscriptions made through another node fail")]
    private static partial void LogPerNodeKeys(ILogger logger, string path);
}
