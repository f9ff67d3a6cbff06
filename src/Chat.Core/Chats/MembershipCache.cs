using Chat.Core.Caching;
using Chat.Core.Diagnostics;
using Chat.Core.Domain;
using Chat.Core.Storage;
using Microsoft.Extensions.Options;

namespace Chat.Core.Chats;

public sealed class ChatMembers
{
    private readonly HashSet<UserId> _set;
    private readonly HashSet<UserId>? _blockedSenders;

    /// <param name="blockedSenders">Direct chats: the members the other member blocked (v1.1 blocking); they may not send here.</param>
    public ChatMembers(ChatId chatId, bool isGroup, IReadOnlyList<string> members, IReadOnlyCollection<string>? blockedSenders = null)
    {
        ChatId = chatId;
        IsGroup = isGroup;
        _blockedSenders = blockedSenders is { Count: > 0 } ? [.. UserId.From(blockedSenders)] : null;
        // Wrapped once when the entry is loaded: every send fans out to this list without converting anything.
        Members = UserId.From(members);
        _set = [.. Members];
    }

    public ChatId ChatId { get; }
    public bool IsGroup { get; }
    public IReadOnlyList<UserId> Members { get; }
    public bool Contains(UserId userId) => _set.Contains(userId);
    public bool IsBlockedSender(UserId userId) => _blockedSenders?.Contains(userId) ?? false;
}

/// <summary>What a caller that is not a member of the chat is told.</summary>
public enum NonMember
{
    /// <summary><c>forbidden</c>: the socket says the chat exists and the user is not in it.</summary>
    Forbidden,
    /// <summary><c>not_found</c>: REST does not reveal that the chat exists.</summary>
    NotFound,
}

/// <summary>
/// Who is in a chat, cached: the hot path (every send, ack, read and typing event) must not query the store.
/// Group entries are dropped on every membership change, direct-chat entries on every block or unblock between the two
/// (on every node, via the backplane).
/// </summary>
public sealed class MembershipCache(IGroupStore groups, IUserStore users, IPrivacyStore privacy, IOptions<ChatOptions> options, ChatMetrics metrics)
{
    private readonly BoundedCache<string, ChatMembers> _cache = new("memberships", options.Value.Caches.Memberships, metrics, StringComparer.Ordinal);

    /// <summary>The chat's members, or null when no such chat exists.</summary>
    public ValueTask<ChatMembers?> GetAsync(ChatId chatId, CancellationToken ct) => GetAsync(chatId.Value, ct);

    /// <summary>The chat's members, or null when no such chat exists (or the id is malformed).</summary>
    public async ValueTask<ChatMembers?> GetAsync(string? chatId, CancellationToken ct)
    {
        if (!ChatRef.TryParse(chatId, out var chat)) return null;
        if (_cache.TryGetValue(chat.Id, out var cached)) return cached;

        ChatMembers? loaded;
        if (chat.IsDirect)
        {
            var found = await users.GetUsersAsync(chat.UserA == chat.UserB ? [chat.UserA!] : [chat.UserA!, chat.UserB!], ct);
            int expected = chat.UserA == chat.UserB ? 1 : 2;
            if (found.Count != expected) return null;
            var blocked = new List<string>(2);
            if (expected == 2)
            {
                if ((await privacy.GetBlockersAsync(chat.UserA!, [chat.UserB!], ct)).Count > 0) blocked.Add(chat.UserA!);
                if ((await privacy.GetBlockersAsync(chat.UserB!, [chat.UserA!], ct)).Count > 0) blocked.Add(chat.UserB!);
            }
            loaded = new ChatMembers(new ChatId(chat.Id), false, found.Select(u => u.UserId).ToArray(), blocked);
        }
        else
        {
            var members = await groups.GetMembersAsync(chat.Id, ct);
            loaded = members.Count > 0 ? new ChatMembers(new ChatId(chat.Id), true, members) : null;
        }
        if (loaded is null) return null;
        _cache.Set(chat.Id, loaded);
        return loaded;
    }

    /// <summary>Members of a chat the user belongs to; throws not_found, or for a non-member what <paramref name="nonMember"/> says.</summary>
    /// <param name="chatId">As the client sent it: null, empty or malformed ids are refused here.</param>
    public async ValueTask<ChatMembers> RequireMemberAsync(string? chatId, UserId userId, NonMember nonMember, CancellationToken ct)
    {
        // A frame without a chat_id is malformed, not a reference to a chat that does not exist.
        if (string.IsNullOrEmpty(chatId)) throw ChatException.Invalid("chat_id is required.");
        var members = await GetAsync(chatId, ct) ?? throw ChatException.NotFound("Chat");
        if (!members.Contains(userId))
            throw nonMember == NonMember.NotFound ? ChatException.NotFound("Chat") : ChatException.Forbidden("You are not a member of this chat.");
        return members;
    }

    public void Invalidate(ChatId chatId) => _cache.TryRemove(chatId.Value);
}
