using Chat.Core;
using Chat.Core.Files;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Chat.Server.Endpoints;

/// <summary>
/// The origin of every link this node makes (docs/files.md "Links"): <c>Chat:PublicUrl</c> when set, else the node's
/// own listening address (the first of <c>urls</c>, a wildcard host read as <c>localhost</c>), never a request's
/// <c>Host</c> header. The contract wants absolute links (usable in an <c>&lt;img src&gt;</c> anywhere), and one
/// origin per node lets a message's attachment be encoded once for all its receivers.
/// </summary>
internal sealed class NodeLinkOrigin(IServer server, IOptions<ChatOptions> options) : ILinkOrigin
{
    private string? _origin;

    public string Origin => _origin ?? Resolve();

    private string Resolve()
    {
        if (options.Value.PublicUrl is { Length: > 0 } url) return _origin = url.TrimEnd('/');
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses;
        // Before the server listens there is no address yet: relative links, and look again next time.
        if (addresses is null || addresses.Count == 0) return "";
        var bound = addresses.Select(BindingAddress.Parse).ToList();
        var address = bound.FirstOrDefault(a => !IsWildcard(a.Host)) ?? bound[0];
        string host = IsWildcard(address.Host) ? "localhost" : address.Host;
        bool defaultPort = (address.Scheme, address.Port) is ("http", 80) or ("https", 443);
        return _origin = defaultPort ? $"{address.Scheme}://{host}" : $"{address.Scheme}://{host}:{address.Port}";
    }

    // Kestrel reports a binding to every interface as [::] or 0.0.0.0; urls may also say * or +.
    private static bool IsWildcard(string host) => host is "*" or "+" or "0.0.0.0" or "[::]" or "::";
}
