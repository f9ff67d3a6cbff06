using Chat.Protocol;

namespace Chat.Core;

/// <summary>A failure a service reports to its caller; the gateway and REST layer map it to the wire.</summary>
public sealed class ChatException(string code, string message, int? retryAfterMs = null) : Exception(message)
{
    public string Code { get; } = code;
    public int? RetryAfterMs { get; } = retryAfterMs;

    public static ChatException NotFound(string what) => new(ErrorCodes.NotFound, $"{what} not found.");
    public static ChatException Forbidden(string why) => new(ErrorCodes.Forbidden, why);
    public static ChatException Invalid(string why) => new(ErrorCodes.InvalidRequest, why);
}
