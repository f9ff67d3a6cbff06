using System.Security.Cryptography;

namespace Chat.Core.Domain;

public static class Ids
{
    /// <summary>A user, device, group or file id: 32 hex digits, time-ordered, never contains '_'.</summary>
    public static string NewId() => Guid.CreateVersion7().ToString("N");

    /// <summary>A message id: a UUID v7 in its canonical form (sorts by time).</summary>
    public static string NewMessageId() => Guid.CreateVersion7().ToString();

    /// <summary>A bearer token: 256 random bits, base64url.</summary>
    public static string NewToken() => Base64Url(RandomNumberGenerator.GetBytes(32));

    /// <summary>Tokens are stored only as this hash; a stolen database yields no usable token.</summary>
    public static string HashToken(string token) => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token)));

    public static string Base64Url(ReadOnlySpan<byte> bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

public static class TimeProviderExtensions
{
    /// <summary>Now as Unix milliseconds, the form every stored and wire timestamp takes.</summary>
    /// <remarks>Time comes from the injected <see cref="TimeProvider"/> (never a static clock), so tests can drive it.</remarks>
    public static long NowMs(this TimeProvider time) => time.GetUtcNow().ToUnixTimeMilliseconds();
}
