using System.Net;
using System.Net.Sockets;
using Chat.Core.Storage;

namespace Chat.Server.Hosting;

/// <summary>
/// Tries each address of <c>urls</c> before the host starts, so a port already in use is one line naming it (Kestrel
/// would fail the same way a moment later, but only after logging its stack). Host names other than localhost and
/// port 0 are left to Kestrel.
/// </summary>
internal static class ListenCheck
{
    public static void ThrowIfInUse(string? urls)
    {
        foreach (string url in (urls ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(url.Replace("://*", "://0.0.0.0").Replace("://+", "://0.0.0.0"), UriKind.Absolute, out var uri) || uri.Port <= 0) continue;
            IPAddress? address = uri.IsLoopback && !IPAddress.TryParse(uri.Host.Trim('[', ']'), out _) ? IPAddress.Loopback
                : IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) ? ip : null;
            if (address is null) continue;
            using var probe = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                probe.Bind(new IPEndPoint(address, uri.Port));
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
                throw new StartupCheckException($"Address {url} is already in use: another process listens there; stop it or choose another address with --urls.", ex);
            }
            catch (SocketException)
            {
                // Not bindable here for another reason (no IPv6, foreign address): Kestrel reports it.
            }
        }
    }
}
