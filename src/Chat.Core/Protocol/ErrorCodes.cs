namespace Chat.Core.Protocol;

/// <summary>Machine-readable error codes shared by REST bodies and WebSocket <c>error</c> frames.</summary>
public static class ErrorCodes
{
    public const string InvalidJson = "invalid_json";
    public const string UnknownType = "unknown_type";
    public const string InvalidRequest = "invalid_request";
    public const string Unauthorized = "unauthorized";
    public const string Forbidden = "forbidden";
    public const string NotFound = "not_found";
    public const string Conflict = "conflict";
    public const string ContentTooLarge = "content_too_large";
    public const string FileTooLarge = "file_too_large";
    public const string RateLimited = "rate_limited";
    public const string GroupFull = "group_full";
    public const string Unavailable = "unavailable";
    public const string Internal = "internal";
}

/// <summary>WebSocket close codes the server uses (PROTOCOL.md "Errors").</summary>
public static class CloseCodes
{
    public const int ShuttingDown = 1001;
    public const int InvalidUtf8 = 1007;
    public const int TooBig = 1009;
    public const int Unauthorized = 4001;
    public const int IdleTimeout = 4002;
    public const int SlowConsumer = 4008;
}

/// <summary>A failure a service reports to its caller; the gateway and REST layer map it to the wire.</summary>
public sealed class ChatException(string code, string message, int? retryAfterMs = null) : Exception(message)
{
    public string Code { get; } = code;
    public int? RetryAfterMs { get; } = retryAfterMs;

    public static ChatException NotFound(string what) => new(ErrorCodes.NotFound, $"{what} not found.");
    public static ChatException Forbidden(string why) => new(ErrorCodes.Forbidden, why);
    public static ChatException Invalid(string why) => new(ErrorCodes.InvalidRequest, why);
}
