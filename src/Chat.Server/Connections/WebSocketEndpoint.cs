using Chat.Core.Auth;
using Chat.Protocol;
using Chat.Server.Endpoints;

namespace Chat.Server.Connections;

internal static class WebSocketEndpoint
{
    public static void MapChatWebSocket(this IEndpointRouteBuilder app) => app.Map("/ws", HandleAsync);

    private static async Task HandleAsync(HttpContext http, AuthService auth, GatewayServices gateway, IHostApplicationLifetime lifetime, ILoggerFactory logs)
    {
        if (!http.WebSockets.IsWebSocketRequest)
        {
            await Http.WriteError(http, StatusCodes.Status400BadRequest, ErrorCodes.InvalidRequest, "Expected a WebSocket upgrade.");
            return;
        }
        if (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            await Http.WriteError(http, StatusCodes.Status503ServiceUnavailable, ErrorCodes.Unavailable, "The server is shutting down.");
            return;
        }
        string? token = http.Request.Query["token"].FirstOrDefault() ?? Http.BearerToken(http);
        var principal = await auth.AuthenticateAsync(token, http.RequestAborted);
        string? claimedUser = http.Request.Query["user_id"].FirstOrDefault();
        using var ws = await http.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { DangerousEnableCompression = false });
        if (principal is null || (claimedUser is not null && claimedUser != principal.UserId))
        {
            // The contract: accept the upgrade, then close with 4001.
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await ws.CloseAsync((System.Net.WebSockets.WebSocketCloseStatus)CloseCodes.Unauthorized, "unauthorized", timeout.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or System.Net.WebSockets.WebSocketException or IOException)
            {
            }
            return;
        }
        var connection = new DeviceConnection(ws, principal, gateway.Options.Value, gateway.Metrics,
            gateway.Time, logs.CreateLogger<DeviceConnection>());
        // Not cancelled by ApplicationStopping: ShutdownDrain closes sockets with 1001 after the queues drained.
        await connection.RunAsync(gateway, CancellationToken.None);
    }
}
