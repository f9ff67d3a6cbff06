namespace Chat.Protocol;

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
    /// <summary>One more socket than <c>Chat:Limits:SocketsPerDevice</c> for the same device token.</summary>
    public const int TooManyConnections = 4029;
}
