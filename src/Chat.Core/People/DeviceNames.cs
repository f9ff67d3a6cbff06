namespace Chat.Core.People;

/// <summary>A readable default device name ("Firefox on Windows") from a User-Agent, when the client sent none.</summary>
public static class DeviceNames
{
    public static string? FromUserAgent(string? ua)
    {
        if (string.IsNullOrWhiteSpace(ua)) return null;
        string browser = Has(ua, "Edg/") ? "Edge" : Has(ua, "Firefox/") ? "Firefox" : Has(ua, "Chrome/") || Has(ua, "Chromium/") ? "Chrome"
            : Has(ua, "Safari/") ? "Safari" : Has(ua, "curl/") ? "curl" : "Browser";
        string os = Has(ua, "Android") ? "Android" : Has(ua, "iPhone") || Has(ua, "iPad") ? "iOS" : Has(ua, "Windows") ? "Windows"
            : Has(ua, "Mac OS X") ? "macOS" : Has(ua, "Linux") ? "Linux" : "";
        return os.Length == 0 ? browser : $"{browser} on {os}";
    }

    private static bool Has(string ua, string part) => ua.Contains(part, StringComparison.Ordinal);
}
