using System.Net.WebSockets;
using Chat.Core.Auth;
using Chat.Protocol;
using Chat.Server.Endpoints;
using Microsoft.AspNetCore.Hosting.Server;

namespace Chat.Server.Connections;

internal static class WebSocketEndpoint
{
    public static void MapChatWebSocket(this IEndpointRouteBuilder app) => app.Map("/ws", HandleAsync);

    private static async Task HandleAsync(HttpContext http, AuthService auth, AuthFrameGate authFrames, GatewayServices gateway,
        IHostApplicationLifetime lifetime, IServer server, ILoggerFactory logs)
    {
        if (!http.WebSockets.IsWebSocketRequest)
        {
            await Http.WriteError(http, StatusCodes.Status400BadRequest, ErrorCodes.InvalidRequest, "Expected a WebSocket upgrade.");
            return;
        }
        // Before the upgrade and before the token is looked at: a page from another site gets nothing but this 403.
        if (http.Request.Headers.Origin is { Count: > 0 } origins
            && (origins.Count > 1 || !AllowedOrigins.Allows(origins[0] ?? "", gateway.Options.Value, server)))
        {
            await Http.WriteError(http, StatusCodes.Status403Forbidden, ErrorCodes.Forbidden, "This page's origin may not open a socket here (Chat:AllowedOrigins).");
            return;
        }
        if (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            await Http.WriteError(http, StatusCodes.Status503ServiceUnavailable, ErrorCodes.Unavailable, "The server is shutting down.");
            return;
        }
        // An empty ?token= is a (bad) token; only a request with none at all authenticates with its first frame.
        string? token = http.Request.Query["token"].FirstOrDefault() ?? Http.BearerToken(http);
        using var pending = token is null ? authFrames.TryEnter() : null;
        if (token is null && pending is null)
        {
            await Http.WriteError(http, StatusCodes.Status503ServiceUnavailable, ErrorCodes.Unavailable,
                "Too many sockets are waiting to authenticate on this node; retry shortly.", retryAfterMs: 1000);
            return;
        }
        var principal = token is null ? null : await auth.AuthenticateAsync(token, http.RequestAborted);
        string? claimedUser = http.Request.Query["user_id"].FirstOrDefault();
        using var ws = await http.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { DangerousEnableCompression = false });
        int refusal = CloseCodes.Unauthorized;
        if (pending is not null) (principal, refusal) = await authFrames.AuthenticateAsync(ws, lifetime.ApplicationStopping);
        if (principal is null || (claimedUser is not null && claimedUser != principal.UserId))
        {
            // The contract: accept the upgrade, then close with 4001 (an auth frame that timed out is closed already).
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                if (ws.State is WebSocketState.Open or WebSocketState.CloseReceived)
                    await ws.CloseAsync((WebSocketCloseStatus)refusal, AuthFrameGate.CloseReason(refusal), timeout.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException)
            {
            }
            return;
        }
        // Authenticated: from here on the socket is like one opened with ?token=, and no longer pending.
        pending?.Dispose();
        var connection = new DeviceConnection(ws, principal, gateway.Options.Value, gateway.Metrics,
            gateway.Time, logs.CreateLogger<DeviceConnection>());
        // Not cancelled by ApplicationStopping: ShutdownDrain closes sockets with 1001 after the queues drained.
        await connection.RunAsync(gateway, CancellationToken.None);
    }
}
