using System.Text.Json.Serialization;

namespace Chat.Protocol;

// Server → client WebSocket frames. Each carries its wire "type" as the first property.

public sealed record ReadyFrame(string UserId, string DeviceId, long ServerTime, int HeartbeatIntervalMs)
{
    [JsonPropertyOrder(-1)]
    public string Type => "ready";
}

public sealed record AckFrame(string ClientMsgId, string MessageId, string ChatId, long Seq, long Timestamp)
{
    [JsonPropertyOrder(-1)]
    public string Type => "ack";
}

public sealed partial record MessageFrame(
    string MessageId, string ChatId, long Seq, string From, string Content, long Timestamp,
    string ClientMsgId, AttachmentInfo? Attachment)
{
    [JsonPropertyOrder(-1)]
    public string Type => "new_message";
}

public sealed record AttachmentInfo(string FileId, string FileName, string Type, long Size, string Url, string? ThumbnailUrl);

public sealed record DeliveryReceiptFrame(string ChatId, string MessageId, long Seq, string DeliveredTo)
{
    [JsonPropertyOrder(-1)]
    public string Type => "delivery_receipt";
}

public sealed record ReadReceiptFrame(string ChatId, string MessageId, string LastReadMessageId, long Seq, string ReadBy, long Timestamp)
{
    [JsonPropertyOrder(-1)]
    public string Type => "read_receipt";
}

public sealed record SyncReadFrame(string ChatId, string LastReadMessageId, long Seq)
{
    [JsonPropertyOrder(-1)]
    public string Type => "sync_read";
}

public sealed record TypingFrame(string Type, string ChatId, string UserId);

public sealed record PresenceFrame(string UserId, string Status, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] long? LastSeen)
{
    public static PresenceFrame Of(PresenceDto p) => new(p.UserId, p.Status, p.LastSeen);

    [JsonPropertyOrder(-1)]
    public string Type => "presence_update";
}

public sealed record GroupUpdateFrame(string GroupId, string Action, IReadOnlyList<string> UserIds, string By,
    string? EventId = null, long? Timestamp = null, long? AfterSeq = null, string? Name = null)
{
    [JsonPropertyOrder(-1)]
    public string Type => "group_update";
}

public sealed record HeartbeatAckFrame(long ServerTime)
{
    [JsonPropertyOrder(-1)]
    public string Type => "heartbeat_ack";
}

public sealed partial record ErrorFrame(string Code, string Error, string? ClientMsgId = null, int? RetryAfterMs = null)
{
    [JsonPropertyOrder(-1)]
    public string Type => "error";
}
