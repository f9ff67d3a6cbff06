using Chat.Core.Search;

namespace Chat.Core.Storage;

// The store seam. One adapter (SQLite, PostgreSQL) implements all of these; every adapter runs the
// same contract tests (tests/Chat.Tests/Storage/StoreContract.cs).

/// <summary>
/// Every store seam in one: what a storage adapter implements and the contract kit checks. Services depend on the
/// single seams they use; <see cref="StoreRegistration.AddChatStore"/> puts one instance behind all of them.
/// </summary>
public interface IChatStore : IUserStore, IGroupStore, IMessageStore, IPointerStore, IFileStore, IStoreHealth, IRichMessageStore,
    Notifications.INotificationStore, ISearchStore, IPrivacyStore;

public interface IUserStore
{
    /// <summary>False when the username (case-insensitive) is taken.</summary>
    Task<bool> CreateUserAsync(UserRecord user, CancellationToken ct);
    Task<UserRecord?> GetUserAsync(string userId, CancellationToken ct);
    Task<UserRecord?> FindByUsernameAsync(string username, CancellationToken ct);
    Task<IReadOnlyList<UserRecord>> GetUsersAsync(IReadOnlyCollection<string> userIds, CancellationToken ct);

    Task CreateDeviceAsync(DeviceRecord device, CancellationToken ct);
    /// <summary>The live (not revoked) device holding this token hash.</summary>
    Task<DeviceRecord?> FindDeviceByTokenHashAsync(string tokenHash, CancellationToken ct);
    Task<IReadOnlyList<DeviceRecord>> ListDevicesAsync(string userId, CancellationToken ct);
    /// <summary>Revokes the device if it belongs to the user; false if there was no such live device.</summary>
    Task<bool> RevokeDeviceAsync(string userId, string deviceId, CancellationToken ct);
    Task TouchDevicesAsync(IReadOnlyCollection<(string DeviceId, long LastActive)> devices, CancellationToken ct);
    /// <summary>False when there is no such user.</summary>
    Task<bool> UpdateDisplayNameAsync(string userId, string displayName, CancellationToken ct);
    /// <summary>False when there is no such user.</summary>
    Task<bool> UpdatePasswordHashAsync(string userId, string passwordHash, CancellationToken ct);
    /// <summary>Renames a live device of this user; false when there is no such live device.</summary>
    Task<bool> RenameDeviceAsync(string userId, string deviceId, string deviceName, CancellationToken ct);

    Task CreateInviteAsync(InviteRecord invite, CancellationToken ct);
    /// <summary>The invite with this code hash if it can still be used at <paramref name="now"/> (not expired, uses left); else null.</summary>
    Task<InviteRecord?> FindUsableInviteAsync(string codeHash, long now, CancellationToken ct);
    /// <summary>Invites still usable at <paramref name="now"/>, oldest first.</summary>
    Task<IReadOnlyList<InviteRecord>> ListUsableInvitesAsync(long now, CancellationToken ct);
    /// <summary>False when there was no such invite.</summary>
    Task<bool> DeleteInviteAsync(string inviteId, CancellationToken ct);
    /// <summary>
    /// Creates the user and takes one use of the invite atomically: of concurrent registrations only as many as the
    /// invite has uses left succeed; when the username is taken the use is not taken.
    /// </summary>
    Task<InviteRegistration> CreateUserWithInviteAsync(UserRecord user, string codeHash, long now, CancellationToken ct);
}

/// <summary>
/// v1.1 privacy: who blocked whom (one row per (blocker, blocked); blocking is one-way) and each user's privacy
/// switches (a row only for a user who changed one; no row means both on).
/// </summary>
public interface IPrivacyStore
{
    /// <summary>Idempotent: blocking again keeps the first block.</summary>
    Task BlockAsync(string userId, string blockedId, long now, CancellationToken ct);
    /// <summary>Idempotent.</summary>
    Task UnblockAsync(string userId, string blockedId, CancellationToken ct);
    /// <summary>The users this user has blocked, oldest block first.</summary>
    Task<IReadOnlyList<string>> ListBlockedAsync(string userId, CancellationToken ct);
    /// <summary>Those of <paramref name="userIds"/> who have blocked <paramref name="blockedId"/>.</summary>
    Task<IReadOnlyList<string>> GetBlockersAsync(string blockedId, IReadOnlyCollection<string> userIds, CancellationToken ct);
    Task SetPrivacyAsync(string userId, PrivacySettings settings, CancellationToken ct);
    /// <summary>The settings of those of <paramref name="userIds"/> who have a row; the others have the defaults.</summary>
    Task<IReadOnlyDictionary<string, PrivacySettings>> GetPrivacyAsync(IReadOnlyCollection<string> userIds, CancellationToken ct);
}

public interface IGroupStore
{
    Task CreateGroupAsync(GroupRecord group, CancellationToken ct);
    Task<GroupRecord?> GetGroupAsync(string groupId, CancellationToken ct);
    Task UpdateGroupAsync(string groupId, string? name, string? description, CancellationToken ct);
    /// <summary>Adds the users not yet members, atomically; returns the users added, or null (nothing changed) when the result would exceed <paramref name="maxMembers"/>.</summary>
    Task<IReadOnlyList<string>?> AddMembersAsync(string groupId, IReadOnlyCollection<string> userIds, int maxMembers, long now, CancellationToken ct);
    /// <summary>False when the user was not a member.</summary>
    Task<bool> RemoveMemberAsync(string groupId, string userId, CancellationToken ct);
    /// <summary>Current members of a chat (group members, or the participants of a direct chat that has been used); empty if unknown.</summary>
    Task<IReadOnlyList<string>> GetMembersAsync(string chatId, CancellationToken ct);
    Task<IReadOnlyList<ChatSummaryRecord>> ListChatsAsync(string userId, int limit, long? beforeUpdatedAt, CancellationToken ct);
    /// <summary>Makes a member admin or not, atomically; never demotes the group's last admin.</summary>
    Task<AdminChange> SetAdminAsync(string groupId, string userId, bool admin, CancellationToken ct);
    /// <summary>Stores a group change after the chat's current last seq (read in the same transaction); returns it with after_seq set.</summary>
    Task<GroupEventRecord> AppendGroupEventAsync(GroupEventRecord evt, CancellationToken ct);
    /// <summary>Events with after_seq &gt; <paramref name="afterSeq"/> oldest first, else (after_seq &lt; <paramref name="beforeSeq"/> when given) newest first.</summary>
    Task<IReadOnlyList<GroupEventRecord>> GetGroupEventsAsync(string groupId, int limit, long? afterSeq, long? beforeSeq, CancellationToken ct);
}

public interface IMessageStore
{
    /// <summary>
    /// Stores a batch in ONE transaction: dedups on (sender, client_msg_id), assigns each chat's next seq
    /// (no gaps, safe with several writers), creates direct chats on first use. Results are in input order.
    /// Throws if the transaction fails: then nothing of the batch is stored.
    /// </summary>
    Task<IReadOnlyList<AppendResult>> AppendAsync(IReadOnlyList<NewMessage> batch, CancellationToken ct);
    Task<IReadOnlyList<StoredMessage>> GetHistoryAsync(string chatId, HistoryQuery query, CancellationToken ct);
    Task<StoredMessage?> GetMessageAsync(string messageId, CancellationToken ct);
    Task<StoredMessage?> GetMessageBySeqAsync(string chatId, long seq, CancellationToken ct);
    /// <summary>The message stored for a sender's client_msg_id (the dedup key), if any.</summary>
    Task<StoredMessage?> FindSentAsync(string senderId, string clientMsgId, CancellationToken ct);
    /// <summary>Distinct senders of messages with from &lt; seq ≤ to, excluding one user.</summary>
    Task<IReadOnlyList<string>> GetSendersAsync(string chatId, long fromExclusive, long toInclusive, string excludeUserId, CancellationToken ct);

    /// <summary>The chat's highest seq (0 when it has no messages).</summary>
    Task<long> GetLastSeqAsync(string chatId, CancellationToken ct);
    /// <summary>The chats of a user with their current last seq.</summary>
    Task<IReadOnlyList<ChatHead>> GetChatHeadsAsync(string userId, CancellationToken ct);
    /// <summary>
    /// Messages a device has not acknowledged, ordered by (chat_id, seq), after the keyset cursor:
    /// seq above the device's delivered pointer and above the user's join point, sent at/after the device was
    /// created (the device's own messages included: the caller steps over them). <paramref name="chatId"/> restricts to one chat.
    /// </summary>
    Task<IReadOnlyList<StoredMessage>> GetUndeliveredAsync(
        string userId, string deviceId, long deviceCreatedAt, string? chatId,
        string afterChatId, long afterSeq, int limit, CancellationToken ct);
}

public interface IPointerStore
{
    /// <summary>Raises delivered pointers (never lowers them).</summary>
    Task SaveDeliveredAsync(IReadOnlyCollection<DevicePointer> pointers, CancellationToken ct);
    /// <summary>The user's best delivered pointer for a chat (over all devices).</summary>
    Task<long> GetUserDeliveredAsync(string userId, string chatId, CancellationToken ct);
    /// <summary>Raises the read pointer; returns the previous value (equal or higher means nothing changed).</summary>
    Task<long> AdvanceReadAsync(string userId, string chatId, long seq, CancellationToken ct);
    Task<IReadOnlyList<MemberPointers>> GetPointersAsync(string chatId, CancellationToken ct);
}

public interface IFileStore
{
    Task CreateFileAsync(FileRecord file, CancellationToken ct);
    Task<FileRecord?> GetFileAsync(string fileId, CancellationToken ct);
    Task MarkCompleteAsync(string fileId, bool hasThumbnail, CancellationToken ct);
    /// <summary>True when the file was sent to a chat the user is a member of.</summary>
    Task<bool> CanReadFileAsync(string fileId, string userId, CancellationToken ct);
    /// <summary>Deletes and returns files created before the cutoff and never attached.</summary>
    Task<IReadOnlyList<FileRecord>> DeleteUnattachedAsync(long createdBefore, CancellationToken ct);
    /// <summary>The owner's completed files, and pending uploads created at or after <paramref name="pendingSince"/>.</summary>
    Task<FileUsage> GetFileUsageAsync(string ownerId, long pendingSince, CancellationToken ct);
}

/// <summary>Answers /healthz: are the stores reachable.</summary>
public interface IStoreHealth
{
    Task<bool> PingAsync(CancellationToken ct);
}
