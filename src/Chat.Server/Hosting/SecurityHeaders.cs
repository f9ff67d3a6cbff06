using Chat.Core.Files;

namespace Chat.Server.Hosting;

/// <summary>
/// Headers that make the browser the last line of defence (docs/security.md "Web client"): a Content-Security-Policy
/// that runs only this node's own scripts (no inline script, no eval), loads nothing from elsewhere and cannot be
/// framed; no Referer leaving the site (upload and download links carry signatures); no MIME sniffing of files.
/// The web client is written for it: no inline script or style, no <c>innerHTML</c>, styles set through the CSSOM.
/// </summary>
internal sealed class SecurityHeadersMiddleware(RequestDelegate next, ILinkOrigin links)
{
    private string? _policy;

    public Task InvokeAsync(HttpContext http)
    {
        var headers = http.Response.Headers;
        headers.ContentSecurityPolicy = _policy ?? Resolve();
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()";
        return next(http);
    }

    // The link origin is known once the node listens (always so by the first request); cached from then on.
    private string Resolve()
    {
        string origin = links.Origin;
        string policy = Policy(origin);
        if (origin.Length > 0) _policy = policy;
        return policy;
    }

    /// <summary>
    /// Links to files start with the link origin (Chat:PublicUrl or the node's address), which may differ from the
    /// address the page was opened on, so it is allowed beside <c>'self'</c> for images, media and fetches.
    /// </summary>
    internal static string Policy(string linkOrigin)
    {
        string own = linkOrigin.Length > 0 ? $"'self' {linkOrigin}" : "'self'";
        return string.Join("; ",
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            $"img-src {own} blob: data:",
            $"media-src {own} blob:",
            $"connect-src {own}",
            "font-src 'self'",
            "manifest-src 'self'",
            "worker-src 'self'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'");
    }
}
