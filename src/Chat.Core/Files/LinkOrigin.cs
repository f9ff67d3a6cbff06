using Microsoft.Extensions.Options;

namespace Chat.Core.Files;

/// <summary>
/// Where the links the server makes (signed upload, download and thumbnail links) start. Core never sees a request:
/// one origin per node serves every link, so a message's attachment is encoded once for all its receivers.
/// </summary>
public interface ILinkOrigin
{
    /// <summary>An absolute origin without a trailing slash (<c>https://chat.example.com</c>), or "" for links relative to the server's root.</summary>
    string Origin { get; }
}

/// <summary>Core's default: <c>Chat:PublicUrl</c> when set, else relative links (<c>/api/files/…</c>). The server replaces it with the node's own address.</summary>
public sealed class ConfiguredLinkOrigin(IOptions<ChatOptions> options) : ILinkOrigin
{
    public string Origin { get; } = options.Value.PublicUrl.TrimEnd('/');
}
