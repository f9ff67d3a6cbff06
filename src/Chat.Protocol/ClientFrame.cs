namespace Chat.Protocol;

/// <summary>Every client → server WebSocket frame, as one loose shape; the gateway validates per type.</summary>
public sealed partial class ClientFrame
{
    public string? Type { get; set; }
    public string? ChatId { get; set; }
    public string? Content { get; set; }
    public string? ClientMsgId { get; set; }
    public AttachmentRef? Attachment { get; set; }
    public long? Timestamp { get; set; }
    public string? MessageId { get; set; }
    public long? Seq { get; set; }
    public string? Status { get; set; }
    public List<string>? UserIds { get; set; }
}

public sealed class AttachmentRef
{
    public string? FileId { get; set; }
}
