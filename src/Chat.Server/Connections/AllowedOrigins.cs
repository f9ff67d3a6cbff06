using Chat.Core;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Chat.Server.Connections;

/// <summary>
/// Which browser pages may open <c>/ws</c> (<c>Chat:AllowedOrigins</c>, docs/configuration.md): the node's own origins
/// (each listening address; a wildcard binding counts as <c>localhost</c>, <c>127.0.0.1</c> and <c>[::1]</c>),
/// <c>Chat:PublicUrl</c>, and the configured list. Matches are exact on the serialized origin
/// (<c>scheme://host[:port]</c>, as browsers send it): <c>null</c>, <c>file://</c> and look-alike hosts never match.
/// A socket can be opened from any page a browser shows, so this is what keeps another site's script from using a
/// visitor's session here; clients that send no <c>Origin</c> (not browsers) are not concerned.
/// </summary>
internal static class AllowedOrigins
{
    public static bool Allows(string origin, ChatOptions options, IServer server)
    {
        if (options.PublicUrl is { Length: > 0 } publicUrl && Same(origin, publicUrl)) return true;
        foreach (string allowed in options.AllowedOrigins)
            if (Same(origin, allowed)) return true;
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses;
        if (addresses is null) return false;
        foreach (string address in addresses)
        {
            var bound = BindingAddress.Parse(address);
            if (IsWildcard(bound.Host))
            {
                foreach (string host in (ReadOnlySpan<string>)["localhost", "127.0.0.1", "[::1]"])
                    if (Same(origin, $"{bound.Scheme}://{host}:{bound.Port}")) return true;
            }
            else if (Same(origin, $"{bound.Scheme}://{bound.Host}:{bound.Port}")) return true;
        }
        return false;
    }

    /// <summary>
    /// The request's <c>Origin</c> against one configured URL reduced to its origin (lower-case scheme and host,
    /// default port dropped, trailing slash gone). The request's value must already be in that form: a browser's is.
    /// </summary>
    private static bool Same(string origin, string configured) =>
        Uri.TryCreate(configured, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
        && string.Equals(origin, uri.GetLeftPart(UriPartial.Authority), StringComparison.Ordinal);

    // Kestrel reports a binding to every interface as [::] or 0.0.0.0; urls may also say * or +.
    private static bool IsWildcard(string host) => host is "*" or "+" or "0.0.0.0" or "[::]" or "::";
}
