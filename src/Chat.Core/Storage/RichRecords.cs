namespace Chat.Core.Storage;

// v1.1 rich messages: what a message carries beyond v1 (PROTOCOL.md "v1.1 additions"). Defaults are a plain message
// that never changed, so v1 code that builds these records stays as it was.

public sealed partial record NewMessage
{
    /// <summary>The seq of the replied-to message in the same chat, or null.</summary>
    public long? ReplyToSeq { get; init; }
    /// <summary>User ids mentioned in the content (members of the chat), resolved before the commit.</summary>
    public IReadOnlyList<string> Mentions { get; init; } = [];
}

public sealed partial record StoredMessage
{
    /// <summary>The chat revision at which this message last changed (0 = never changed since it was sent).</summary>
    public long Rev { get; init; }
    public long? EditedAt { get; init; }
    /// <summary>A tombstone: content is "", no file, no reply, no mentions (all erased in the store).</summary>
    public bool Deleted { get; init; }
    public long? ReplyToSeq { get; init; }
    public IReadOnlyList<string> Mentions { get; init; } = [];

    // Value equality over the lists too (a record compares lists by reference), so a message read back from a store
    // equals the one that was appended.
    public bool Equals(StoredMessage? other) =>
        other is not null && MessageId == other.MessageId && ChatId == other.ChatId && Seq == other.Seq && SenderId == other.SenderId
        && SenderDeviceId == other.SenderDeviceId && ClientMsgId == other.ClientMsgId && Content == other.Content && FileId == other.FileId
        && Timestamp == other.Timestamp && Rev == other.Rev && EditedAt == other.EditedAt && Deleted == other.Deleted
        && ReplyToSeq == other.ReplyToSeq && Mentions.SequenceEqual(other.Mentions);

    public override int GetHashCode() => HashCode.Combine(MessageId, ChatId, Seq, Rev);
}

public sealed partial record ChatSummaryRecord
{
    public long Rev { get; init; }
    /// <summary>Unread (seq above the read pointer), not deleted messages that mention the user.</summary>
    public long MentionCount { get; init; }
}

/// <summary>One user's reaction on the message at <paramref name="Seq"/>; <paramref name="Rev"/> orders reactions (the chat rev that added it).</summary>
public sealed record ReactionRecord(long Seq, string Emoji, string UserId, long Rev);

/// <summary>An earlier version of a message: its content and when it was replaced.</summary>
public sealed record EditRecord(string Content, long EditedAt);

/// <summary>What an edit, delete or reaction change did.</summary>
public enum ChangeOutcome
{
    /// <summary>The message changed and took the chat's next rev.</summary>
    Changed,
    /// <summary>Nothing to do (same reaction again, absent reaction removed): no rev, nothing sent.</summary>
    Unchanged,
    /// <summary>No such message in that chat.</summary>
    NotFound,
    /// <summary>The message is a tombstone.</summary>
    Deleted,
    /// <summary>Not the sender (and for a delete, not an admin of the group either).</summary>
    NotAllowed,
    /// <summary>An edit to empty content of a message without an attachment.</summary>
    EmptyContent,
    /// <summary>The message already has the maximum number of distinct emoji.</summary>
    TooManyEmoji,
}

/// <param name="Message">The message's current state (after the change; as it is for Unchanged/Deleted/NotAllowed); null for NotFound.</param>
public sealed record ChangeResult(ChangeOutcome Outcome, StoredMessage? Message);
