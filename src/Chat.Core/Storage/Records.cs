namespace Chat.Core.Storage;

public sealed record UserRecord(string UserId, string Username, string DisplayName, string PasswordHash, long CreatedAt);

/// <summary>An admin-made invite; only the SHA-256 of its code is stored.</summary>
public sealed record InviteRecord(string InviteId, string CodeHash, string CreatedBy, long CreatedAt, long ExpiresAt, int MaxUses, int Uses);

public enum InviteRegistration { Created, UsernameTaken, InviteNotValid }

/// <summary>A user's privacy switches (PROTOCOL.md v1.1 "People, groups, privacy"); both on by default.</summary>
public sealed record PrivacySettings(bool SendReadReceipts = true, bool SharePresence = true)
{
    public static readonly PrivacySettings Default = new();
}

public sealed record DeviceRecord(string DeviceId, string UserId, string DeviceName, string TokenHash, long CreatedAt, long LastActive);

public sealed record GroupRecord(
    string GroupId, string Name, string Description, string CreatedBy, long CreatedAt,
    IReadOnlyList<string> Members, IReadOnlyList<string> Admins);

/// <summary>A stored group change: placed after the message with seq = <paramref name="AfterSeq"/>, taking no seq of its own.</summary>
public sealed record GroupEventRecord(
    string EventId, string GroupId, string Action, IReadOnlyList<string> UserIds, string By, string? Name, long Timestamp, long AfterSeq);

public enum AdminChange { Changed, Unchanged, NotMember, LastAdmin }

/// <summary>A message accepted by the gateway, not yet stored: it has no <c>seq</c> until the store assigns one.</summary>
/// <param name="DirectPeer">For a direct chat, the other participant (the store creates the chat on first use); null for groups.</param>
public sealed partial record NewMessage(
    string MessageId, string ChatId, string SenderId, string SenderDeviceId, string ClientMsgId,
    string Content, string? FileId, long Timestamp, string? DirectPeer);

public sealed partial record StoredMessage(
    string MessageId, string ChatId, long Seq, string SenderId, string SenderDeviceId, string ClientMsgId,
    string Content, string? FileId, long Timestamp);

/// <param name="Duplicate">True when <c>(sender, client_msg_id)</c> was already stored: <see cref="Message"/> is the original.</param>
public sealed record AppendResult(StoredMessage Message, bool Duplicate);

/// <summary>History paging. <c>AfterSeq</c> reads ascending; otherwise descending from the newest (or the cursor).</summary>
public sealed record HistoryQuery(long? BeforeTimestamp, long? BeforeSeq, long? AfterSeq, int Limit);

public sealed partial record ChatSummaryRecord(
    string ChatId, bool IsGroup, string? GroupName, int MemberCount,
    StoredMessage? LastMessage, long LastReadSeq, long UnreadCount, long UpdatedAt);

/// <summary>Per-member pointers of a chat: delivered = the best of the member's devices.</summary>
/// <param name="JoinedSeq">The chat's last seq when the member joined: messages up to it were sent before them and never wait for them.</param>
public sealed record MemberPointers(string UserId, long DeliveredSeq, long ReadSeq, long JoinedSeq = 0);

public sealed record DevicePointer(string DeviceId, string UserId, string ChatId, long DeliveredSeq);

/// <summary>Where a device should resume in one chat: the highest seq of that chat right now, and where its pointer stands.</summary>
public sealed record ChatHead(string ChatId, long LastSeq);

public sealed record FileRecord(
    string FileId, string OwnerId, string FileName, string ContentType, long Size, long CreatedAt,
    bool Complete, bool HasThumbnail, long? AttachedAt);

/// <summary>
/// What one user's files take (the storage quota): bytes of completed files, and the pending uploads created since a
/// cutoff (older ones' links have expired, so they can no longer complete) with their declared bytes and the oldest's time.
/// </summary>
public sealed record FileUsage(long StoredBytes, long PendingBytes, int PendingCount, long? OldestPendingAt);
