using System.Net;
using System.Net.Sockets;

namespace Chat.Core.Notifications;

/// <summary>
/// Which push endpoints the server may call (SSRF): <c>https</c> URLs whose host resolves only to public addresses.
/// Checked when a subscription is stored and again on every connection (the resolved address, so DNS rebinding does not
/// help; redirects are never followed). <see cref="PushOptions.AllowInsecureEndpoints"/> lifts both checks (tests).
/// </summary>
public static class PushEndpointPolicy
{
    public const int MaxEndpointLength = 2048;

    /// <summary>The endpoint as a URI, or an <c>invalid_request</c> saying why it is refused (before any DNS lookup).</summary>
    public static Uri Parse(string? endpoint, bool allowInsecure)
    {
        if (string.IsNullOrEmpty(endpoint) || endpoint.Length > MaxEndpointLength
            || !Uri.TryCreate(endpoint, UriKind.Absolute, out var uri))
            throw ChatException.Invalid("endpoint must be an absolute URL.");
        bool https = uri.Scheme == Uri.UriSchemeHttps;
        if (!https && !(allowInsecure && uri.Scheme == Uri.UriSchemeHttp))
            throw ChatException.Invalid("endpoint must be an https URL.");
        if (uri.UserInfo.Length > 0) throw ChatException.Invalid("endpoint must not carry credentials.");
        if (!allowInsecure && IPAddress.TryParse(uri.IdnHost, out var literal) && !IsPublic(literal))
            throw ChatException.Invalid("endpoint must be on a public address.");
        return uri;
    }

    /// <summary>Resolves the host; refuses it when any of its addresses is not public (unless insecure endpoints are allowed).</summary>
    public static async Task EnsurePublicAsync(Uri endpoint, bool allowInsecure, CancellationToken ct)
    {
        if (allowInsecure) return;
        IPAddress[] addresses;
        try
        {
            addresses = await Dns.GetHostAddressesAsync(endpoint.IdnHost, ct);
        }
        catch (SocketException)
        {
            throw ChatException.Invalid("endpoint's host does not resolve.");
        }
        if (addresses.Length == 0 || !addresses.All(IsPublic)) throw ChatException.Invalid("endpoint must be on a public address.");
    }

    /// <summary>
    /// False for loopback, private (RFC 1918, ULA), link-local, carrier-grade NAT, unspecified, multicast, broadcast
    /// and reserved ranges; an IPv4-mapped IPv6 address is judged as the IPv4 address it carries.
    /// </summary>
    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (IPAddress.IsLoopback(address)) return false;
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> b = stackalloc byte[4];
            address.TryWriteBytes(b, out _);
            return !(b[0] == 0 || b[0] == 10 || b[0] == 127 || b[0] >= 224
                || (b[0] == 100 && b[1] >= 64 && b[1] <= 127)   // 100.64/10 carrier-grade NAT
                || (b[0] == 169 && b[1] == 254)                 // link-local (cloud metadata lives here)
                || (b[0] == 172 && b[1] >= 16 && b[1] <= 31)
                || (b[0] == 192 && b[1] == 168)
                || (b[0] == 192 && b[1] == 0 && b[2] == 0)      // 192.0.0/24 protocol assignments
                || (b[0] == 198 && (b[1] == 18 || b[1] == 19))); // benchmarking
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            if (address.Equals(IPAddress.IPv6None) || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal
                || address.IsIPv6Multicast || address.IsIPv6UniqueLocal) return false;
            Span<byte> b = stackalloc byte[16];
            address.TryWriteBytes(b, out _);
            // 64:ff9b::/96 (NAT64) reaches IPv4 addresses: judge the embedded one.
            if (b[0] == 0 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4..12].IndexOfAnyExcept((byte)0) < 0)
                return IsPublic(new IPAddress(b[12..]));
            return true;
        }
        return false;
    }
}
