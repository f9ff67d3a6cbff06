using Chat.Core.Caching;
using Chat.Core.Diagnostics;
using Chat.Core.Domain;
using Chat.Core.Storage;
using Microsoft.Extensions.Options;

namespace Chat.Core.Chats;

public sealed class ChatMembers(string chatId, bool isGroup, IReadOnlyList<string> members)
{
    private readonly HashSet<string> _set = new(members, StringComparer.Ordinal);
    public string ChatId { get; } = chatId;
    public bool IsGroup { get; } = isGroup;
    public IReadOnlyList<string> Members { get; } = members;
    public bool Contains(string userId) => _set.Contains(userId);
}

/// <summary>
/// Who is in a chat, cached: the hot path (every send, ack, read and typing event) must not query the store.
/// Direct chats never change; group entries are dropped on every membership change (on every node, via the backplane).
/// </summary>
public sealed class MembershipCache(IGroupStore groups, IUserStore users, IOptions<ChatOptions> options, ChatMetrics metrics)
{
    private readonly BoundedCache<string, ChatMembers> _cache = new("memberships", options.Value.Caches.Memberships, metrics, StringComparer.Ordinal);

    /// <summary>The chat's members, or null when no such chat exists.</summary>
    public async ValueTask<ChatMembers?> GetAsync(string? chatId, CancellationToken ct)
    {
        if (!ChatRef.TryParse(chatId, out var chat)) return null;
        if (_cache.TryGetValue(chat.Id, out var cached)) return cached;

        ChatMembers? loaded;
        if (chat.IsDirect)
        {
            var found = await users.GetUsersAsync(chat.UserA == chat.UserB ? [chat.UserA!] : [chat.UserA!, chat.UserB!], ct);
            int expected = chat.UserA == chat.UserB ? 1 : 2;
            loaded = found.Count == expected ? new ChatMembers(chat.Id, false, found.Select(u => u.UserId).ToArray()) : null;
        }
        else
        {
            var members = await groups.GetMembersAsync(chat.Id, ct);
            loaded = members.Count > 0 ? new ChatMembers(chat.Id, true, members) : null;
        }
        if (loaded is null) return null;
        _cache.Set(chat.Id, loaded);
        return loaded;
    }

    /// <summary>Members of a chat the user belongs to; throws not_found / forbidden otherwise.</summary>
    /// <param name="hideForbidden">REST answers 404 to non-members (it does not reveal that the chat exists).</param>
    public async ValueTask<ChatMembers> RequireMemberAsync(string? chatId, string userId, bool hideForbidden, CancellationToken ct)
    {
        // A frame without a chat_id is malformed, not a reference to a chat that does not exist.
        if (string.IsNullOrEmpty(chatId)) throw ChatException.Invalid("chat_id is required.");
        var members = await GetAsync(chatId, ct) ?? throw ChatException.NotFound("Chat");
        if (!members.Contains(userId))
            throw hideForbidden ? ChatException.NotFound("Chat") : ChatException.Forbidden("You are not a member of this chat.");
        return members;
    }

    public void Invalidate(string chatId) => _cache.TryRemove(chatId);
}
