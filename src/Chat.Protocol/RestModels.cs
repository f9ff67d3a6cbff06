using System.Text.Json.Serialization;

namespace Chat.Protocol;

// REST request and response bodies (PROTOCOL.md). Shared by the server and the .NET client.

public sealed record ErrorBody(string Code, string Error, int? RetryAfterMs = null);

/// <param name="Invite">An invite code; needed when the server's registration mode is <c>invite</c>, ignored when <c>open</c>.</param>
public sealed record RegisterRequest(string? Username, string? Password, string? DisplayName = null, string? DeviceName = null, string? Invite = null);
public sealed record LoginRequest(string? Username, string? Password, string? DeviceName = null);
public sealed record AuthResponse(string UserId, string Username, string DisplayName, string DeviceId, string Token);

/// <param name="LastUsedAt">The session's stored last use (kept to the hour), which its idle expiry counts from.</param>
public sealed record DeviceDto(string DeviceId, string DeviceName, long CreatedAt, long LastActive, bool Online, long LastUsedAt);
public sealed record DeviceList(IReadOnlyList<DeviceDto> Devices);

public sealed record MeDto(string UserId, string Username, string DisplayName, long CreatedAt, PrivacySettingsDto Settings);
public sealed record PrivacySettingsDto(bool SendReadReceipts, bool SharePresence);

/// <summary>The limits a client checks before sending (<c>GET /api/limits</c>), so it refuses early in human units.</summary>
public sealed record LimitsDto(int MaxContentBytes, long MaxFileBytes);

/// <summary>Who may register (<c>GET /api/auth/registration</c>, anonymous): <c>open</c>, <c>invite</c> or <c>closed</c>.</summary>
public sealed record RegistrationDto(string Mode);

/// <summary><c>POST /api/admin/invites</c>: uses 1-100 (default 1), lifetime 1-720 hours (default 168).</summary>
public sealed record CreateInviteRequest(int? MaxUses = null, int? ExpiresInHours = null);

/// <summary>A new invite; <paramref name="Code"/> is shown only here (the server keeps only its hash).</summary>
public sealed record InviteCreatedDto(string InviteId, string Code, long ExpiresAt, int MaxUses);
public sealed record InviteDto(string InviteId, string CreatedBy, long CreatedAt, long ExpiresAt, int MaxUses, int Uses);
public sealed record InviteList(IReadOnlyList<InviteDto> Invites);
/// <summary><c>last_seen</c> is null (not absent) where privacy hides it (share_presence off, or the user blocked the viewer).</summary>
public sealed record UserDto(string UserId, string Username, string DisplayName, string Status,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] long? LastSeen);
public sealed record UserSummaryDto(string UserId, string Username, string DisplayName);
public sealed record UserList(IReadOnlyList<UserSummaryDto> Users);

public sealed record PresenceDto(string UserId, string Status, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] long? LastSeen)
{
    /// <summary>What privacy shows instead of the real state.</summary>
    public static PresenceDto Hidden(string userId) => new(userId, "offline", null);
}
public sealed record PresenceList(IReadOnlyList<PresenceDto> Presence);

public sealed record DirectChatRequest(string? UserId);
public sealed record ChatIdResponse(string ChatId);

public sealed record CreateGroupRequest(string? Name, string? Description, List<string>? Members);
public sealed record UpdateGroupRequest(string? Name, string? Description);
public sealed record AddMembersRequest(List<string>? UserIds);
public sealed record GroupEventDto(string EventId, string Action, IReadOnlyList<string> UserIds, string By, string? Name, long Timestamp, long AfterSeq);
public sealed record GroupEventsResponse(IReadOnlyList<GroupEventDto> Events, bool HasMore);
public sealed record GroupDto(
    string GroupId, string Name, string Description, string CreatedBy, long CreatedAt,
    IReadOnlyList<string> Members, IReadOnlyList<string> Admins);

public sealed partial record LastMessageDto(string MessageId, long Seq, string From, string Content, long Timestamp);
public sealed record OtherUserDto(string UserId, string Username, string DisplayName, string Status);
public sealed partial record ChatSummaryDto(
    string ChatId, string Type,
    OtherUserDto? OtherUser, string? Name, int? MemberCount,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] LastMessageDto? LastMessage, // null (not absent) for a chat with no messages yet
    long UnreadCount, long LastReadSeq, long UpdatedAt,
    string Notify = NotifyLevels.All, // v1.1 Notifications: the user's settings for this chat
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] long? MutedUntil = null);
public sealed record ChatList(IReadOnlyList<ChatSummaryDto> Chats, bool HasMore);

public sealed partial record MessageDto(
    string MessageId, string ChatId, long Seq, string From, string Content, long Timestamp,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] AttachmentInfo? Attachment,
    bool IsRead, string? Status, string ClientMsgId);
public sealed record MessagePage(IReadOnlyList<MessageDto> Messages, bool HasMore);

public sealed record MemberReceiptDto(string UserId, long DeliveredSeq, long ReadSeq);
public sealed record ReceiptList(IReadOnlyList<MemberReceiptDto> Members);

public sealed record ReadRequest(long? Seq, string? MessageId = null);

public sealed record UploadUrlRequest(string? FileName, string? FileType, long? FileSize);
public sealed record UploadUrlResponse(string FileId, string UploadUrl, int ExpiresIn);

/// <summary>GET /api/search: message objects (each with its chat_id), newest first.</summary>
public sealed record SearchResults(IReadOnlyList<MessageDto> Results, bool HasMore);
