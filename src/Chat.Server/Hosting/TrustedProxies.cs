using Chat.Core;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace Chat.Server.Hosting;

/// <summary>
/// Behind a reverse proxy the connection's peer is the proxy, so every client would share one per-address login
/// and registration window. <c>X-Forwarded-For</c> (and <c>X-Forwarded-Proto</c>) are believed only from the peers
/// listed in <c>Chat:TrustedProxies</c>; <c>X-Forwarded-Host</c> never is (links never come from a Host, see
/// docs/security.md).
/// </summary>
internal static class TrustedProxies
{
    public static WebApplication UseTrustedProxies(this WebApplication app)
    {
        var entries = app.Services.GetRequiredService<IOptions<ChatOptions>>().Value.TrustedProxies;
        // ForwardedHeadersMiddleware with empty KnownProxies and KnownIPNetworks trusts every peer, so "no one
        // trusted" must mean no middleware at all.
        if (entries.Count == 0) return app;
        var options = new ForwardedHeadersOptions
        {
            ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto,
            // Walk the X-Forwarded-For list from the right while each hop is a trusted proxy (a chain of proxies);
            // the first untrusted hop is the client.
            ForwardLimit = null,
        };
        options.KnownProxies.Clear();
        options.KnownIPNetworks.Clear();
        foreach (string entry in entries)
        {
            // Every entry parses: ChatOptions.Validate refused the node's start otherwise.
            if (!ChatOptions.TryParseProxy(entry, out var address, out var network)) continue;
            if (address is not null) options.KnownProxies.Add(address);
            if (network is { } n) options.KnownIPNetworks.Add(n);
        }
        app.UseForwardedHeaders(options);
        return app;
    }
}
