using System.Text.Json.Serialization;

namespace Chat.Protocol;

// v1.1 rich messages (PROTOCOL.md "v1.1 additions"): the fields every message object gains, the edit/delete/react
// frames, message_updated and the changes/edits REST bodies. Kept in this file so the v1 records stay as they were.

/// <summary>The <c>kind</c> of a message object; clients show unknown kinds as nothing.</summary>
public static class MessageKinds
{
    public const string Message = "message";
}

/// <summary>The <c>change</c> of a <see cref="MessageUpdatedFrame"/>.</summary>
public static class MessageChanges
{
    public const string Edited = "edited";
    public const string Deleted = "deleted";
    public const string Reaction = "reaction";
}

/// <summary>The replied-to message as it is now (<c>content</c> cut to 200 characters; <c>""</c> once deleted).</summary>
public sealed record ReplyPreview(string MessageId, long Seq, string From, string Content, bool Deleted)
{
    public const int MaxContentChars = 200;
}

/// <summary>One emoji on a message: who reacted with it, in reaction order.</summary>
public sealed record ReactionDto(string Emoji, int Count, IReadOnlyList<string> UserIds);

/// <summary>
/// The message object of <c>message_updated</c> (and the shape every message object shares): the fields of
/// <c>new_message</c> without the frame's <c>type</c>, and without the per-viewer <c>is_read</c>/<c>status</c> of
/// history (the event is encoded once for every member; a client keeps the ticks it has).
/// </summary>
public sealed record MessageObject(
    string MessageId, string ChatId, long Seq, string From, string Content, long Timestamp, string ClientMsgId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] AttachmentInfo? Attachment)
{
    public string Kind { get; init; } = MessageKinds.Message;
    public long Rev { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public long? EditedAt { get; init; }
    public bool Deleted { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public ReplyPreview? ReplyTo { get; init; }
    public IReadOnlyList<ReactionDto> Reactions { get; init; } = [];
    public IReadOnlyList<string> Mentions { get; init; } = [];
}

/// <summary>v1.1 fields of <c>new_message</c> (always present; defaults are a plain, never-changed message).</summary>
public sealed partial record MessageFrame
{
    public string Kind { get; init; } = MessageKinds.Message;
    public long Rev { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public long? EditedAt { get; init; }
    public bool Deleted { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public ReplyPreview? ReplyTo { get; init; }
    public IReadOnlyList<ReactionDto> Reactions { get; init; } = [];
    public IReadOnlyList<string> Mentions { get; init; } = [];
}

/// <summary>v1.1 fields of a history message (also the body of the single-message and changes endpoints).</summary>
public sealed partial record MessageDto
{
    public string Kind { get; init; } = MessageKinds.Message;
    public long Rev { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public long? EditedAt { get; init; }
    public bool Deleted { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public ReplyPreview? ReplyTo { get; init; }
    public IReadOnlyList<ReactionDto> Reactions { get; init; } = [];
    public IReadOnlyList<string> Mentions { get; init; } = [];
}

/// <summary>v1.1 fields of the chat list's <c>last_message</c>: the newest message in its current state.</summary>
public sealed partial record LastMessageDto
{
    public string Kind { get; init; } = MessageKinds.Message;
    public long Rev { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public long? EditedAt { get; init; }
    public bool Deleted { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public ReplyPreview? ReplyTo { get; init; }
    public IReadOnlyList<ReactionDto> Reactions { get; init; } = [];
    public IReadOnlyList<string> Mentions { get; init; } = [];
}

/// <summary>v1.1 fields of a chat list entry.</summary>
public sealed partial record ChatSummaryDto
{
    /// <summary>The chat's current revision: a device that knows a lower one fetches <c>/changes</c>.</summary>
    public long Rev { get; init; }
    /// <summary>Unread messages (seq above <c>last_read_seq</c>, not deleted) that mention you.</summary>
    public long MentionCount { get; init; }
}

/// <summary>v1.1 fields of client frames: <c>reply_to</c> on new_message; <c>emoji</c>, <c>request_id</c> on edit/delete/react.</summary>
public sealed partial class ClientFrame
{
    /// <summary>Echoed in the error frame when the frame fails.</summary>
    public string? RequestId { get; set; }
    /// <summary><c>new_message</c>: the message_id of a message of the same chat.</summary>
    public string? ReplyTo { get; set; }
    public string? Emoji { get; set; }
}

/// <summary>v1.1: error frames echo the failing frame's <c>request_id</c>.</summary>
public sealed partial record ErrorFrame
{
    public string? RequestId { get; init; }
}

/// <summary>To every member device (the acting one included) after an edit, delete or reaction change.</summary>
public sealed record MessageUpdatedFrame(string ChatId, long Rev, string Change, string By, MessageObject Message)
{
    [JsonPropertyOrder(-1)]
    public string Type => "message_updated";
}

/// <summary><c>GET /api/chats/{id}/changes</c>: messages changed after a revision, ascending <c>rev</c>, each once.</summary>
public sealed record ChangesPage(IReadOnlyList<MessageDto> Changes, long Rev, bool HasMore);

/// <summary>One earlier version of a message; <c>edited_at</c> is when it was replaced.</summary>
public sealed record EditDto(string Content, long EditedAt);

/// <summary><c>GET /api/chats/{id}/messages/{message_id}/edits</c>: earlier versions, oldest first.</summary>
public sealed record EditList(IReadOnlyList<EditDto> Edits);
