using Chat.Server.Connections;
using Chat.Server.Endpoints;
using Chat.Server.Files;

namespace Chat.Server.Hosting;

internal static class ChatPipeline
{
    public static WebApplication UseChat(this WebApplication app)
    {
        app.UseTrustedProxies(); // first: everything after it sees the client's address
        app.UseMiddleware<RequestLogMiddleware>();
        app.UseMiddleware<ErrorMiddleware>();
        app.UseMiddleware<SecurityHeadersMiddleware>();
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });
        app.MapHealthChecks("/healthz");
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapOpenApi(); // GET /openapi/v1.json, anonymous like the contract it describes
        app.MapChatApi();
        app.MapChatFiles();
        app.MapChatWebSocket();
        return app;
    }
}
